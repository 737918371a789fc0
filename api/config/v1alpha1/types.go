package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

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

	// OTLPLogging makes the otlp destination available: the OpenTelemetry
	// collector Gardener runs for each shoot in the seed
	// (https://otc-<shoot>.<seed ingress domain>; Gardener's --otlp-logging).
	// +optional
	OTLPLogging bool `json:"otlpLogging,omitempty"`

	// RestrictedUsage lets only project namespaces annotated
	// falco.gardener.cloud/enabled=true enable Falco (the garden namespace
	// always may; Gardener's --restricted-usage).
	// +optional
	RestrictedUsage bool `json:"restrictedUsage,omitempty"`

	// RestrictedCentralizedLogging lets only project namespaces annotated
	// falco.gardener.cloud/central-logging=true (or
	// falco.gardener.cloud/centralized-logging=true, the name Gardener's
	// docs give) use the central destination (Gardener's
	// --restricted-centralized-logging).
	// +optional
	RestrictedCentralizedLogging bool `json:"restrictedCentralizedLogging,omitempty"`

	// GlobalDefaultDestinations are destinations the mutating webhook adds
	// to new shoots (disabled where the shoot already uses the output key;
	// a project may opt out). Their value is templated with
	// <<.SeedIngressDomain>>, <<.ServiceAccountToken>> and
	// <<.ClusterIdentityToken>>.
	// +optional
	GlobalDefaultDestinations []GlobalDefaultDestination `json:"globalDefaultDestinations,omitempty"`

	// Events are the operator's side of the event destinations: the
	// central ingestor, the cluster identity token and the lifetimes of
	// falcosidekick's certificates and token.
	// +optional
	Events Events `json:"events,omitempty"`
}

// Events configure what the shoots' falcosidekick may send to and how it
// is secured.
type Events struct {
	// Central is the operator's event ingestor: it makes the central
	// destination available.
	// +optional
	Central *Central `json:"central,omitempty"`

	// ClusterIdentityToken signs the <<.ClusterIdentityToken>> global
	// default destinations may use (claims iss and sub = the shoot's
	// cluster identity, as Gardener's extension).
	// +optional
	ClusterIdentityToken *TokenIssuer `json:"clusterIdentityToken,omitempty"`

	// Certificates are the lifetimes of falcosidekick's mTLS CAs and
	// certificates.
	// +optional
	Certificates Certificates `json:"certificates,omitempty"`

	// ServiceAccountTokenLifetime is the lifetime of the token falcosidekick
	// pushes to the shoot's Vali and OTLP collector with (minted by
	// gardener-resource-manager's token requestor, renewed at 80 %).
	// Default: 720h, as Gardener's extension.
	// +optional
	ServiceAccountTokenLifetime *metav1.Duration `json:"serviceAccountTokenLifetime,omitempty"`
}

// Central is the operator's event ingestor (Gardener's centralStorage).
type Central struct {
	// URL is where falcosidekick posts events (webhook output, TLS
	// verified).
	URL string `json:"url"`

	// TokenIssuer signs the JWT each shoot sends as its identity (claims
	// iss urn:gardener:gardener-falco-extension, aud falco-db and
	// gardener-falco.cluster-identity).
	TokenIssuer `json:",inline"`
}

// TokenIssuer is an RSA key that signs RS256 tokens, and their lifetime.
type TokenIssuer struct {
	// PrivateKeyFile is a file with the PEM RSA private key (PKCS #1 or
	// #8), read at start; mount it from a Secret.
	PrivateKeyFile string `json:"privateKeyFile"`

	// TokenLifetime is how long a token is valid; it is renewed when a
	// fifth of it is left. Default: 168h, as Gardener's extension.
	// +optional
	TokenLifetime *metav1.Duration `json:"tokenLifetime,omitempty"`
}

// GlobalDefaultDestination is an operator-provided falcosidekick output.
type GlobalDefaultDestination struct {
	// Name is what shoots name in destinations[].name; it must not be a
	// standard destination name.
	Name string `json:"name"`

	// FalcosidekickOutput is the falcosidekick output it configures.
	FalcosidekickOutput FalcosidekickOutput `json:"falcosidekickOutput"`
}

// FalcosidekickOutput is one falcosidekick output: its configuration key
// and the value under it.
type FalcosidekickOutput struct {
	// Key is falcosidekick's output key (splunk, webhook, elasticsearch,
	// loki, otlp, ...); each key at most once among the global defaults.
	Key string `json:"key"`

	// Value is the output's configuration map, a Go template with << and
	// >> as delimiters.
	Value *runtime.RawExtension `json:"value"`
}

// Certificates are lifetimes of falcosidekick's mTLS certificates.
type Certificates struct {
	// CALifetime of the server and client CAs. Default: 17520h (2 years).
	// +optional
	CALifetime *metav1.Duration `json:"caLifetime,omitempty"`

	// Lifetime of the server and client certificates. Default: 4320h
	// (180 days).
	// +optional
	Lifetime *metav1.Duration `json:"lifetime,omitempty"`

	// RenewBefore is how long before its end a CA or certificate is
	// renewed; the old CA stays trusted until it expires. Default: 720h
	// (30 days).
	// +optional
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
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
