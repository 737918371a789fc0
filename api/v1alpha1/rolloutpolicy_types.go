package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RolloutPolicy orders changes across shoots in waves. The controller uses
// the policy named by its --rollout-policy flag (default "default"); without
// one, every shoot is in a single wave.
//
// A rollout is identified by a revision: a hash of the inputs that decide
// targets (the FalcoProfiles and the verified versions of every
// RuleSource). When the revision changes, the rollout restarts at the first
// wave. Wave N+1 opens when every shoot of waves 0..N is up to date for the
// revision and spec.pause has passed since then.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=falcops
// +kubebuilder:printcolumn:name="Wave",type=string,JSONPath=`.status.currentWave`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.revision`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RolloutPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RolloutPolicySpec   `json:"spec,omitempty"`
	Status RolloutPolicyStatus `json:"status,omitempty"`
}

// RolloutPolicySpec defines the waves.
type RolloutPolicySpec struct {
	// Waves in order. A shoot belongs to the first wave whose selector
	// matches its labels; shoots matched by no selector are spread over the
	// waves with a percent by a stable hash of namespace/name (percentages
	// are of those shoots, in order); the rest go to the last wave.
	// +kubebuilder:validation:MaxItems=20
	// +optional
	Waves []Wave `json:"waves,omitempty"`

	// Pause is the time between one wave completing and the next opening.
	// +optional
	Pause *metav1.Duration `json:"pause,omitempty"`

	// Paused halts the rollout: no shoot moves except forced updates
	// (expired or removed versions) and shoots with the maintain operation.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// MaxFailedShoots halts the rollout when more shoots than this, changed
	// by the current revision, report a failed last operation
	// (status.lastOperation.state Failed or Error). Unset: never halts.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxFailedShoots *int32 `json:"maxFailedShoots,omitempty"`
}

// Wave is one step of a rollout.
type Wave struct {
	// Name for status, events and metrics.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`
	Name string `json:"name"`
	// Selector picks shoots by label.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// Percent of the shoots no selector matched.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Percent *int32 `json:"percent,omitempty"`
}

// RolloutPolicyStatus is the progress of the current rollout.
type RolloutPolicyStatus struct {
	// ObservedGeneration is the generation last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Reconciling, Stalled, Halted.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Revision is the rollout in progress.
	// +optional
	Revision string `json:"revision,omitempty"`
	// CurrentWave is the name of the highest open wave.
	// +optional
	CurrentWave string `json:"currentWave,omitempty"`
	// OpenWaves is how many waves are open (shoots of waves with a lower
	// index may change).
	// +optional
	OpenWaves int32 `json:"openWaves,omitempty"`
	// Waves is the progress of each wave.
	// +optional
	Waves []WaveStatus `json:"waves,omitempty"`
}

// WaveStatus counts the shoots of one wave.
type WaveStatus struct {
	// Name of the wave.
	Name string `json:"name"`
	// Shoots in the wave.
	Shoots int32 `json:"shoots"`
	// UpToDate shoots for the current revision.
	UpToDate int32 `json:"upToDate"`
	// Failed shoots: changed by this revision, with a failed last operation.
	// +optional
	Failed int32 `json:"failed,omitempty"`
	// CompletedAt is when the last shoot became up to date.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
}

// RolloutPolicyList is a list of RolloutPolicies.
//
// +kubebuilder:object:root=true
type RolloutPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RolloutPolicy `json:"items"`
}

// GetConditions returns the conditions.
func (r *RolloutPolicy) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the conditions.
func (r *RolloutPolicy) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }
