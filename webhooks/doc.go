// Package webhooks is falcops' admission: the Shoot (and Seed) mutating
// and validating webhooks, which give Gardener's Falco extension's
// defaults, checks and texts and add falcops' own checks (custom rules
// that do not load, pins only the controller may set, opensearch
// secrets), and the FalcoProfile validating webhook.
//
// The handlers are admission.Handlers: falcops-controller serves them, and
// `falcops admission review` calls the same handlers offline with the
// garden objects read from files.
package webhooks
