package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ShootRollout is the rollout state of one shoot: which Falco version and
// ruleset digests it runs, which it should run, and why it waits. The
// controller creates it in the shoot's namespace with the shoot's name and
// an owner reference to the shoot, so it goes away with the shoot. It is
// output only: the whole object is written by the controller.
//
//	kubectl get shootrollouts -A
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=falcops,shortName=sro
// +kubebuilder:printcolumn:name="Falco",type=string,JSONPath=`.status.falcoVersion`
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.status.targetFalcoVersion`
// +kubebuilder:printcolumn:name="Wave",type=string,JSONPath=`.status.wave`
// +kubebuilder:printcolumn:name="UpToDate",type=string,JSONPath=`.status.conditions[?(@.type=="UpToDate")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,priority=1
// +kubebuilder:printcolumn:name="Changed",type=date,JSONPath=`.status.lastTransitionTime`
type ShootRollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Status ShootRolloutStatus `json:"status,omitempty"`
}

// ShootRolloutStatus is the per-shoot state.
type ShootRolloutStatus struct {
	// ObservedGeneration is the shoot's generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reconciling, Stalled, UpToDate, RollingOut.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// FalcoVersion is the version in the shoot's FalcoServiceConfig.
	// +optional
	FalcoVersion string `json:"falcoVersion,omitempty"`
	// TargetFalcoVersion is the version the shoot should run.
	// +optional
	TargetFalcoVersion string `json:"targetFalcoVersion,omitempty"`
	// Rulesets are the shoot's standard rulesets with current and target
	// pins.
	// +optional
	Rulesets []RulesetPin `json:"rulesets,omitempty"`
	// Wave is the rollout wave of the shoot.
	// +optional
	Wave string `json:"wave,omitempty"`
	// Revision is the rollout revision the target was computed for.
	// +optional
	Revision string `json:"revision,omitempty"`
	// Reason is why the shoot moved or waits (a condition reason such as
	// WaitingForMaintenanceWindow, ForcedExpired, DowngradeBlocked).
	// +optional
	Reason string `json:"reason,omitempty"`
	// Message explains Reason in one sentence.
	// +optional
	Message string `json:"message,omitempty"`
	// LastTransitionTime is when the controller last changed the shoot.
	// +optional
	LastTransitionTime *metav1.Time `json:"lastTransitionTime,omitempty"`
}

// RulesetPin is one standard ruleset of a shoot.
type RulesetPin struct {
	// Name is the standard ruleset name (rules.standard).
	Name string `json:"name"`
	// Version and Digest currently pinned in the shoot (empty: none).
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	Digest string `json:"digest,omitempty"`
	// TargetVersion and TargetDigest the shoot should pin.
	// +optional
	TargetVersion string `json:"targetVersion,omitempty"`
	// +optional
	TargetDigest string `json:"targetDigest,omitempty"`
}

// ShootRolloutList is a list of ShootRollouts.
//
// +kubebuilder:object:root=true
type ShootRolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ShootRollout `json:"items"`
}

// GetConditions returns the conditions.
func (r *ShootRollout) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the conditions.
func (r *ShootRollout) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }
