package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Classifications of a version (Gardener's semantics).
const (
	// ClassificationPreview may be selected by users but is never a default,
	// auto-update or forced-update target.
	ClassificationPreview = "preview"
	// ClassificationSupported is selectable and the default / auto-update
	// target (the highest non-expired one wins).
	ClassificationSupported = "supported"
	// ClassificationDeprecated is selectable until its expiration date.
	ClassificationDeprecated = "deprecated"
)

// FalcoProfile lists the Falco (and Falcosidekick) versions a landscape
// offers, each with a classification, an optional expiration date and its
// image. It is cluster-scoped. Its status is falcops' addition (Gardener's
// FalcoProfile has none): documents without one keep working.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name=Valid,type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name=Age,type=date,JSONPath=`.metadata.creationTimestamp`
type FalcoProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec"`
	// Status is written by falcops-controller.
	// +optional
	Status *Status `json:"status,omitempty"`
}

// PluginVersion is a plugin a Falco release bundles.
type PluginVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ConditionValid is true when the profile, merged with the others, passes
// lifecycle's strict rules and offers new shoots a default version.
const ConditionValid = "Valid"

// Status is what falcops-controller observed of a FalcoProfile.
type Status struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Shoots are how many shoots run each Falco version the profile lists,
	// in the profile's order.
	// +optional
	Shoots []VersionShoots `json:"shoots,omitempty"`
}

// VersionShoots is how many shoots run one Falco version.
type VersionShoots struct {
	Version string `json:"version"`
	Shoots  int32  `json:"shoots"`
}

// FalcoProfileList is a list of FalcoProfiles.
//
// +kubebuilder:object:root=true
type FalcoProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []FalcoProfile `json:"items"`
}

// Spec is the content of a FalcoProfile.
type Spec struct {
	// +optional
	Versions Versions `json:"versions"`
	// +optional
	Images Images `json:"images"`
}

// Versions are the offered versions of each component.
type Versions struct {
	// +optional
	Falco []FalcoVersion `json:"falco"`
	// +optional
	Falcosidekick []FalcosidekickVersion `json:"falcosidekick"`
	// Falcoctl is unused (kept for compatibility).
	// +optional
	Falcoctl []FalcoctlVersion `json:"falcoctl"`
}

// Images are the container images of each component, by version.
type Images struct {
	// +optional
	Falco []ImageSpec `json:"falco"`
	// +optional
	Falcosidekick []ImageSpec `json:"falcosidekick"`
	// Falcoctl is unused since Gardener PR #251 (kept for compatibility).
	// +optional
	Falcoctl []ImageSpec `json:"falcoctl"`
}

// FalcoVersion is one offered Falco version.
type FalcoVersion struct {
	// Classification is preview, supported or deprecated.
	// +kubebuilder:validation:Enum=preview;supported;deprecated
	Classification string `json:"classification"`
	// ExpirationDate is an RFC 3339 date-time with a time zone, such as
	// 2026-07-31T23:59:59Z. After it the version is expired. falcops rejects
	// a date it cannot parse (Gardener treats it as "never expires").
	ExpirationDate *string `json:"expirationDate,omitempty"`
	// Version is the Falco version (semver) users select.
	Version string `json:"version"`
	// RulesVersion names the rules Gardener embeds for this version
	// (the directory falco/rules/<rulesVersion>/ of the extension).
	RulesVersion string `json:"rulesVersion"`
	// EngineVersion is the Falco engine version (semver x.y.z) of this Falco
	// release, the one rules files compare required_engine_version with.
	// Optional; when empty, falcops uses its built-in table.
	//
	// This field is falcops' addition; it is not in Gardener's API, whose
	// decoder ignores unknown fields.
	// +optional
	EngineVersion string `json:"engineVersion,omitempty"`
	// Plugins are the plugins this Falco release bundles, with their
	// versions (falcops' addition): the controller pins only ruleset
	// versions whose required_plugin_versions they satisfy. Empty: not
	// known, nothing is filtered.
	// +optional
	Plugins []PluginVersion `json:"plugins,omitempty"`
}

// FalcosidekickVersion is one offered Falcosidekick version.
type FalcosidekickVersion struct {
	Classification string  `json:"classification"`
	ExpirationDate *string `json:"expirationDate,omitempty"`
	Version        string  `json:"version"`
}

// FalcoctlVersion is one offered falcoctl version (unused).
type FalcoctlVersion struct {
	Classification string  `json:"classification"`
	ExpirationDate *string `json:"expirationDate,omitempty"`
	Version        string  `json:"version"`
}

// ImageSpec is the image of one component version. If Tag starts with
// "sha256:" the image is Repository@Tag; if Tag is empty, Repository is used
// as is; otherwise it is Repository:Tag.
type ImageSpec struct {
	Version    string `json:"version"`
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
}

// Version is what every kind of version entry has.
//
// +kubebuilder:object:generate=false
type Version interface {
	GetClassification() string
	GetExpirationDate() *string
	GetVersion() string
}

// GetVersion returns the version.
func (v FalcoVersion) GetVersion() string { return v.Version }

// GetClassification returns the classification.
func (v FalcoVersion) GetClassification() string { return v.Classification }

// GetExpirationDate returns the expiration date, nil if none.
func (v FalcoVersion) GetExpirationDate() *string { return v.ExpirationDate }

// GetVersion returns the version.
func (v FalcosidekickVersion) GetVersion() string { return v.Version }

// GetClassification returns the classification.
func (v FalcosidekickVersion) GetClassification() string { return v.Classification }

// GetExpirationDate returns the expiration date, nil if none.
func (v FalcosidekickVersion) GetExpirationDate() *string { return v.ExpirationDate }

// GetVersion returns the version.
func (v FalcoctlVersion) GetVersion() string { return v.Version }

// GetClassification returns the classification.
func (v FalcoctlVersion) GetClassification() string { return v.Classification }

// GetExpirationDate returns the expiration date, nil if none.
func (v FalcoctlVersion) GetExpirationDate() *string { return v.ExpirationDate }
