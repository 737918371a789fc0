package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RuleSource follows one repository of signed falcoctl rulesfile artifacts:
// it resolves a tag to a digest once per interval (one HEAD request),
// verifies every new digest's cosign signature and digest claim, and lists
// the verified versions with their engine requirements. Shoots that select
// spec.ruleset in FalcoServiceConfig rules.standard get one of these
// versions pinned by digest.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=falcops
// +kubebuilder:printcolumn:name="Ruleset",type=string,JSONPath=`.spec.ruleset`
// +kubebuilder:printcolumn:name="Follow",type=string,JSONPath=`.spec.follow`
// +kubebuilder:printcolumn:name="Latest",type=string,JSONPath=`.status.latest.version`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RuleSource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RuleSourceSpec   `json:"spec"`
	Status RuleSourceStatus `json:"status,omitempty"`
}

// RuleSourceSpec says where the artifacts are and who must have signed them.
type RuleSourceSpec struct {
	// Ruleset is the name shoots select in FalcoServiceConfig
	// rules.standard, such as falco-rules.
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`
	// +kubebuilder:validation:MaxLength=63
	Ruleset string `json:"ruleset"`

	// Repository is the artifact repository, host[:port]/path, without tag
	// or digest, such as ghcr.io/example/rules/falco-rules.
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$`
	Repository string `json:"repository"`

	// Follow is the tag to follow: a major version ("5": every 5.y.z), a
	// minor ("5.1": every 5.1.z) or "latest". falcops publish moves these
	// tags to the highest final release of their line.
	// +kubebuilder:validation:Pattern=`^(latest|[0-9]+(\.[0-9]+)?)$`
	// +kubebuilder:default=latest
	// +optional
	Follow string `json:"follow,omitempty"`

	// Interval is how often the tag is resolved (one HEAD request), with up
	// to 10% jitter. Default 1m.
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// Insecure talks plain HTTP to the registry: only to loopback
	// registries (tests, a local registry) unless AllowInsecureRemote.
	// +optional
	Insecure bool `json:"insecure,omitempty"`

	// AllowInsecureRemote lets Insecure reach a registry that is not on
	// loopback; anyone on the network path can then change what is read.
	// +optional
	AllowInsecureRemote bool `json:"allowInsecureRemote,omitempty"`

	// CredentialsSecretRef names a kubernetes.io/dockerconfigjson Secret in
	// the controller's namespace with the registry credentials (pull
	// access is enough). It must carry the label falcops.dev/secret=true:
	// the controller reads no other Secret.
	// +optional
	CredentialsSecretRef *LocalSecretReference `json:"credentialsSecretRef,omitempty"`

	// Verify says whose signature every digest must carry.
	Verify VerifySpec `json:"verify"`

	// RollbackTo, when set, is the highest version shoots may run: newer
	// verified versions are not chosen, and shoots on them move down to the
	// newest version at or below it, with the event reason RulesetRollback.
	// It is the only way a shoot's ruleset goes down: tags that disappear
	// or move back never lower a pin. Remove it to roll forward again.
	// +kubebuilder:validation:Pattern=`^[0-9]+\.[0-9]+\.[0-9]+$`
	// +optional
	RollbackTo string `json:"rollbackTo,omitempty"`

	// History is how many verified versions status keeps (default 10,
	// newest first). Shoots on an older Falco engine use the newest kept
	// version their engine satisfies.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	History *int32 `json:"history,omitempty"`
}

// VerifySpec gives the cosign public key: inline (a public key is not a
// secret) or in a Secret.
//
// +kubebuilder:validation:XValidation:rule="has(self.secretRef) != has(self.publicKey)",message="give exactly one of secretRef and publicKey"
type VerifySpec struct {
	// SecretRef names a Secret in the controller's namespace that carries
	// the label falcops.dev/secret=true.
	// +optional
	SecretRef *SecretReference `json:"secretRef,omitempty"`
	// PublicKey is the PEM public key itself (cosign.pub).
	// +optional
	PublicKey string `json:"publicKey,omitempty"`
}

// LocalSecretReference names a Secret in the controller's namespace.
type LocalSecretReference struct {
	// Name of the Secret.
	Name string `json:"name"`
}

// SecretReference names a Secret in the controller's namespace and one of
// its keys.
type SecretReference struct {
	// Name of the Secret.
	Name string `json:"name"`
	// Key in the Secret's data holding the PEM public key (default
	// cosign.pub).
	// +optional
	Key string `json:"key,omitempty"`
}

// RuleSourceStatus is what the controller has seen and verified.
type RuleSourceStatus struct {
	// ObservedGeneration is the generation last reconciled successfully.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, Resolved, Verified.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Latest is the version the followed tag pointed at when it was last
	// verified.
	// +optional
	Latest *RulesetVersion `json:"latest,omitempty"`

	// Versions are the verified versions, newest first. Only verified
	// digests are ever listed here, so only they are ever pinned.
	// +optional
	Versions []RulesetVersion `json:"versions,omitempty"`

	// Rejected is the last digest that failed verification and why; it is
	// never pinned.
	// +optional
	Rejected *RejectedDigest `json:"rejected,omitempty"`

	// Floor is the highest version verified for the followed line. Versions
	// stay listed when their tags disappear or the followed tag moves back,
	// so shoots are never moved below what they run; only spec.rollbackTo
	// lowers what shoots get.
	// +optional
	Floor string `json:"floor,omitempty"`
}

// RulesetVersion is one verified artifact.
type RulesetVersion struct {
	// Version is the artifact's semantic version.
	Version string `json:"version"`
	// Digest is the verified manifest digest (sha256:...).
	Digest string `json:"digest"`
	// EngineVersion is the minimum Falco engine version (semver) the rules
	// require; empty when they state none.
	// +optional
	EngineVersion string `json:"engineVersion,omitempty"`
	// Dependencies are the artifact's dependencies (its rules files'
	// required_plugin_versions and its dependsOn rulesets), from the
	// verified config.
	// +optional
	Dependencies []RulesetDependency `json:"dependencies,omitempty"`
	// VerifiedAt is when the signature was checked.
	VerifiedAt metav1.Time `json:"verifiedAt"`
}

// RulesetDependency is a plugin (or ruleset) an artifact needs, at least
// at Version, or one of its alternatives.
type RulesetDependency struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// +optional
	Alternatives []DependencyAlternative `json:"alternatives,omitempty"`
}

// DependencyAlternative satisfies a RulesetDependency in its place.
type DependencyAlternative struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// RejectedDigest is a digest that did not verify.
type RejectedDigest struct {
	// Digest of the manifest.
	Digest string `json:"digest"`
	// Reason is a condition reason, such as SignatureInvalid.
	Reason string `json:"reason"`
	// Message says what failed.
	Message string `json:"message"`
	// Since is when it was first rejected.
	Since metav1.Time `json:"since"`
}

// RuleSourceList is a list of RuleSources.
//
// +kubebuilder:object:root=true
type RuleSourceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RuleSource `json:"items"`
}

// GetConditions returns the conditions.
func (r *RuleSource) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the conditions.
func (r *RuleSource) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }
