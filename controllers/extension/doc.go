// Package extension is the seed-side actuator of falcops-extension: it
// reconciles Gardener Extension objects of type shoot-falco-service and
// deploys Falco into each shoot through one ManagedResource, rendered by
// deploy.Render from the shoot (the Cluster resource), the signed
// falco-profiles artifact and the operator configuration.
//
// It honours the Extension contract of gardener/gardener's extensions
// library without importing it (DESIGN.md, "Falco in the shoot"): a
// finalizer, status.lastOperation and observedGeneration, the
// gardener.cloud/operation annotation (reconcile, migrate, restore),
// hibernated shoots skipped, and a delete that waits for the
// ManagedResource to go. Names are Gardener's, so a shoot that Gardener's
// extension served is adopted, not deployed twice.
package extension
