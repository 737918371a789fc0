// Package v1alpha1 holds FalcoServiceConfig (group
// falco.extensions.gardener.cloud, version v1alpha1), the providerConfig of
// a Shoot's shoot-falco-service extension. It is JSON-compatible with
// Gardener's gardener-extension-shoot-falco-service
// pkg/apis/service/v1alpha1: the same field names, JSON tags and omitempty.
// falcops adds one optional field, Rules.Pinned.
//
// FalcoServiceConfig is not a Kubernetes object; it is decoded from the
// Shoot with Decode, strictly, as Gardener's admission webhooks do
// (decode.go, which also holds the error texts). The package imports only
// the standard library and sigs.k8s.io/json, the strict decoder that
// apimachinery builds on. The deep copies are generated (make generate).
//
// +kubebuilder:object:generate=true
package v1alpha1
