package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// GroupName is the API group of the operator configuration.
const GroupName = "config.falcops.io"

// Kind is the kind of an operator configuration document.
const Kind = "Configuration"

// APIVersion is the apiVersion a configuration document carries.
const APIVersion = GroupName + "/v1alpha1"

// The rules delivery modes.
const (
	// DeliveryFalcoctl: falcoctl in each Falco pod installs the pinned
	// digests and verifies their signatures; the falcops agent swaps
	// changed pins in. Nodes need registry access.
	DeliveryFalcoctl = "falcoctl"
	// DeliveryInline: the extension, which verified the digests, writes the
	// rules files into ConfigMaps; kubelet swaps them. No registry access
	// from shoots.
	DeliveryInline = "inline"
)

// Configuration is the operator configuration of falcops-extension.
type Configuration struct {
	metav1.TypeMeta `json:",inline"`

	// Images are the falcops images the extension deploys into shoots.
	Images Images `json:"images"`

	// Rules says where the signed rulesets are and how they reach Falco.
	Rules Rules `json:"rules"`

	// PriorityClassName is the priority class of the Falco pods.
	// Default: gardener-shoot-system-900, as Gardener's extension.
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`

	// DefaultDestination is the event destination the mutator sets when a
	// shoot names none. Default: logging, as Gardener's extension.
	// +optional
	DefaultDestination string `json:"defaultDestination,omitempty"`
}

// Images are container image references (repository:tag or
// repository@sha256:digest).
type Images struct {
	// Agent is the falcops image: it holds falcops-agent and falcoctl
	// v0.13.0 (the Dockerfile of the repository builds it).
	Agent string `json:"agent"`
}

// Rules configures rules delivery.
type Rules struct {
	// Delivery is falcoctl (default) or inline.
	// +optional
	Delivery string `json:"delivery,omitempty"`

	// CosignPublicKey is the landscape's cosign public key (PEM). falcoctl
	// in the shoot verifies every pinned ruleset with it; the extension
	// verifies the falco-profiles artifact and, in inline mode, each
	// ruleset with it.
	CosignPublicKey string `json:"cosignPublicKey"`

	// CredentialsSecret names a Secret in the extension's namespace with
	// the keys username and password: the registry login falcoctl in the
	// shoot uses. Empty: anonymous pulls.
	// +optional
	CredentialsSecret string `json:"credentialsSecret,omitempty"`

	// Implies says, per standard selection of a FalcoServiceConfig, which
	// rulesets are pinned and loaded for it, in load order (for example
	// falco-rules: [falco-rules, gardener-tuning]). A selection not listed
	// implies itself only.
	// +optional
	Implies map[string][]string `json:"implies,omitempty"`

	// Heartbeat is the ruleset pinned and loaded when a shoot sets
	// heartbeatEvent. Default: heartbeat.
	// +optional
	Heartbeat string `json:"heartbeat,omitempty"`
}
