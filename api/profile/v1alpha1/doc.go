// Package v1alpha1 holds the FalcoProfile API (group falco.gardener.cloud,
// version v1alpha1, cluster-scoped), byte-compatible with Gardener's
// gardener-extension-shoot-falco-service: the same fields, JSON tags, pointer
// fields and omitempty. falcops adds one optional field,
// FalcoVersion.EngineVersion; Gardener's decoder ignores it.
//
// The package imports apimachinery only. Loading, validation and the
// lifecycle rules live in package lifecycle.
//
// +kubebuilder:object:generate=true
// +groupName=falco.gardener.cloud
package v1alpha1
