package v1alpha1

// Type is the extension type of Gardener's Falco extension: the value of
// spec.extensions[].type in a Shoot or Seed.
const Type = "shoot-falco-service"

// ShootLabel is the label Gardener sets to "true" on every Shoot that
// enables the extension. Gardener's webhooks and maintenance controller
// select on it, and so does falcops.
const ShootLabel = "extensions.extensions.gardener.cloud/shoot-falco-service"

// FalcoServiceConfig is the providerConfig of the shoot-falco-service
// extension (Gardener's pkg/apis/service/v1alpha1/types.go).
//
// Every optional field is a pointer or a slice with omitempty, so a field
// that is absent stays absent when the config is encoded again. Gardener
// at b728b8e declares Tolerations, Destinations, Rules.StandardRules and
// Rules.CustomRules as plain slices; here they are pointers to slices.
// Both accept exactly the same JSON. The only difference is on encoding:
// an explicitly empty list (destinations: []) is kept as [] here, where
// Gardener drops it. Gardener's webhooks treat an empty list and an absent
// one alike.
//
// The removed fields resources, falcoCtl, gardener and webhook (Gardener
// PR #277) are not declared, so Decode rejects a config that still carries
// them, as Gardener's strict decoder does.
type FalcoServiceConfig struct {
	// APIVersion is falco.extensions.gardener.cloud/v1alpha1 (metav1.TypeMeta
	// in Gardener; spelled out here to keep the package free of apimachinery).
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind is FalcoServiceConfig.
	Kind string `json:"kind,omitempty"`

	// FalcoConfig is additional Falco configuration (container resources).
	// +optional
	FalcoConfig *FalcoConfig `json:"falcoConfig,omitempty"`

	// FalcoVersion is the Falco version to run. Gardener's mutator defaults
	// it to the highest non-expired supported version.
	// +optional
	FalcoVersion *string `json:"falcoVersion,omitempty"`

	// AutoUpdate moves the shoot to the highest supported version in its
	// maintenance window. Gardener's mutator defaults it to true.
	// +optional
	AutoUpdate *bool `json:"autoUpdate,omitempty"`

	// HeartbeatEvent enables an hourly liveness event.
	// +optional
	HeartbeatEvent *bool `json:"heartbeatEvent,omitempty"`

	// NodeSelector applies to the Falco pods only.
	// +optional
	NodeSelector *map[string]string `json:"nodeSelector,omitempty"`

	// Tolerations apply to the Falco pods only.
	// +optional
	Tolerations *[]Toleration `json:"tolerations,omitempty"`

	// Rules selects the standard and custom rules. Gardener's mutator
	// defaults rules.standard to [falco-rules] only when rules is absent.
	// +optional
	Rules *Rules `json:"rules,omitempty"`

	// Destinations are where events go. Gardener's mutator sets
	// [{name: logging}] when the list is empty.
	// +optional
	Destinations *[]Destination `json:"destinations,omitempty"`
}

// Toleration has the JSON fields of k8s.io/api/core/v1.Toleration, which is
// what Gardener uses. falcops declares its own copy because k8s.io/api is
// not a dependency of this module and this package stays free of apimachinery; the
// JSON is identical (key, operator, value, effect, tolerationSeconds), so
// swapping in corev1.Toleration later changes no byte.
type Toleration struct {
	// Key is the taint key the toleration applies to; empty matches all
	// keys (with operator Exists).
	Key string `json:"key,omitempty"`
	// Operator is Exists or Equal (Equal when empty).
	Operator string `json:"operator,omitempty"`
	// Value is the taint value to match with operator Equal.
	Value string `json:"value,omitempty"`
	// Effect is NoSchedule, PreferNoSchedule or NoExecute; empty matches all.
	Effect string `json:"effect,omitempty"`
	// TolerationSeconds bounds how long a NoExecute taint is tolerated.
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// FalcoConfig is additional Falco configuration.
type FalcoConfig struct {
	// Resources are the Falco container's requests and limits. Helm merges
	// them with the chart defaults (requests 100m/512Mi, memory limit 1024Mi).
	// +optional
	Resources *FalcoResources `json:"resources,omitempty"`
}

// FalcoResources are the Falco container's resource settings.
type FalcoResources struct {
	// +optional
	Limits *ResourceValues `json:"limits,omitempty"`
	// +optional
	Requests *ResourceValues `json:"requests,omitempty"`
}

// ResourceValues are Kubernetes quantities as strings, such as 150m or 1Gi.
type ResourceValues struct {
	// +optional
	CPU *string `json:"cpu,omitempty"`
	// +optional
	Memory *string `json:"memory,omitempty"`
}

// Rules selects the rules Falco loads.
type Rules struct {
	// StandardRules are standard rulesets: falco-rules,
	// falco-incubating-rules, falco-sandbox-rules.
	// +optional
	StandardRules *[]string `json:"standard,omitempty"`

	// CustomRules are rules from ConfigMaps, in load order.
	// +optional
	CustomRules *[]CustomRule `json:"custom,omitempty"`

	// Pinned is falcops' own field; Gardener's types do not have it, and
	// Gardener's strict decoder would reject it. falcops writes it only on
	// shoots it manages (with Gardener's admission replaced by falcops), so
	// Gardener never sees it set unless falcops runs. Each entry pins a
	// standard ruleset to the verified artifact falcoctl must pull.
	// +optional
	Pinned []PinnedRuleset `json:"pinned,omitempty"`
}

// CustomRule names one source of custom rules. Exactly one field is set.
type CustomRule struct {
	// ResourceName is the name of a ConfigMap entry in the shoot's
	// spec.resources.
	// +optional
	ResourceName string `json:"resourceName,omitempty"`
	// ShootConfigMap is a ConfigMap in the shoot's kube-system namespace.
	// +optional
	ShootConfigMap string `json:"shootConfigMap,omitempty"`
}

// PinnedRuleset pins standard ruleset Name to one verified artifact
// (falcops' own type; see Rules.Pinned).
type PinnedRuleset struct {
	// Name is the standard ruleset, such as falco-rules.
	Name string `json:"name"`
	// Version is the ruleset version the digest belongs to, such as 3.2.0.
	Version string `json:"version"`
	// Ref is registry/repository@sha256:<hex>, the verified digest falcoctl
	// must pull for Name.
	Ref string `json:"ref"`
}

// Destination is one event destination.
type Destination struct {
	// Name is stdout, logging, custom, opensearch, splunk, central, otlp or
	// the name of an operator's global default destination.
	Name string `json:"name,omitempty"`
	// Enabled is true when nil; false keeps the entry but sends nothing.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// ResourceSecretName is a Secret entry in the shoot's spec.resources
	// (custom, opensearch, splunk).
	// +optional
	ResourceSecretName *string `json:"resourceSecretName,omitempty"`
}
