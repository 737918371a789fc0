// Package v1alpha1 holds falcops' own Kubernetes API (group falcops.dev):
// RuleSource (a registry repository of signed rules artifacts and the
// verified versions seen in it), RolloutPolicy (waves, pause, halt) and
// ShootRollout (the per-shoot rollout state, readable with kubectl get).
//
// +kubebuilder:object:generate=true
// +groupName=falcops.dev
package v1alpha1
