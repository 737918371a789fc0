package deploy

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/secrets"
)

// Destinations are the facts and secrets the event destinations need.
type Destinations struct {
	// ShortID and IngressDomain name the shoot's Vali and OTLP endpoints in
	// the seed (https://v-<shortID>.<ingress>, https://otc-<shortID>.<ingress>).
	ShortID, IngressDomain string
	// Secrets are the Secrets spec.resources names, by resource name.
	Secrets map[string]map[string][]byte
	// CentralToken is this cluster's JWT for the operator's ingestor
	// (secrets.MintJWT), ClusterIdentityToken the one global defaults may
	// use (secrets.MintIdentityJWT).
	CentralToken, ClusterIdentityToken string
}

// saToken is replaced by falcosidekick's init container with the token of
// its service account (Gardener's convention).
const saToken = secrets.TokenPlaceholder

// NeedsSidekick reports whether an enabled destination other than stdout
// exists: only then is falcosidekick deployed.
func NeedsSidekick(c *servicev1alpha1.FalcoServiceConfig) bool {
	if c.Destinations == nil {
		return false
	}
	for _, d := range *c.Destinations {
		if d.Name != "stdout" && (d.Enabled == nil || *d.Enabled) {
			return true
		}
	}
	return false
}

// SidekickOutputs returns falcosidekick's configuration for the enabled
// destinations, keyed as falcosidekick reads it (loki, webhook,
// elasticsearch, splunk, otlp), with the values of Gardener's extension;
// the operator's global defaults templated.
func SidekickOutputs(c *servicev1alpha1.FalcoServiceConfig, op *configv1alpha1.Configuration, d Destinations) (map[string]any, error) {
	out := map[string]any{}
	if c.Destinations == nil {
		return out, nil
	}
	for _, dest := range *c.Destinations {
		if dest.Enabled != nil && !*dest.Enabled {
			continue
		}
		key, cfg, err := output(dest, op, d)
		if err != nil {
			return nil, err
		}
		if key == "" {
			continue
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%w: multiple enabled destinations use the same output key %q", ErrInputs, key)
		}
		out[key] = cfg
	}
	return out, nil
}

func output(dest servicev1alpha1.Destination, op *configv1alpha1.Configuration, d Destinations) (string, map[string]any, error) {
	bearer := map[string]any{"Authorization": "Bearer " + saToken}
	if g, ok := op.GlobalDefault(dest.Name); ok && !slices.Contains(configv1alpha1.StandardDestinations, dest.Name) {
		cfg, err := g.FalcosidekickOutput.Render(configv1alpha1.TemplateVars{SeedIngressDomain: d.IngressDomain,
			ServiceAccountToken: saToken, ClusterIdentityToken: d.ClusterIdentityToken})
		if err != nil {
			return "", nil, fmt.Errorf("%w: global default destination %s: %w", ErrInputs, dest.Name, err)
		}
		return g.FalcosidekickOutput.Key, cfg, nil
	}
	switch dest.Name {
	case "stdout":
		return "", nil, nil // Falco's stdout_output
	case "logging":
		return "loki", map[string]any{"hostport": "https://v-" + d.ShortID + "." + d.IngressDomain, "endpoint": "/vali/api/v1/push",
			"format": "json", "checkcert": false, "customheaders": bearer}, nil
	case "otlp":
		if !op.OTLPLogging {
			return "", nil, fmt.Errorf("%w: destination otlp: the operator offers no OTLP collector (otlpLogging)", ErrInputs)
		}
		return "otlp", map[string]any{"logs": map[string]any{
			"endpoint": "https://otc-" + d.ShortID + "." + d.IngressDomain + "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
			"protocol": "grpc", "headers": "Authorization=Bearer " + saToken, "checkcert": false}}, nil
	case "central":
		switch {
		case op.Events.Central == nil:
			return "", nil, fmt.Errorf("%w: destination central: the operator configured no central storage (events.central)", ErrInputs)
		case d.CentralToken == "":
			return "", nil, fmt.Errorf("%w: destination central: no token yet: the shoot has no cluster identity", ErrInputs)
		}
		return "webhook", map[string]any{"address": op.Events.Central.URL, "checkcert": true,
			"customheaders": map[string]any{"Authorization": "Bearer " + d.CentralToken}}, nil
	}
	s, err := destinationSecret(dest, d)
	if err != nil {
		return "", nil, err
	}
	switch dest.Name {
	case "custom":
		cfg := map[string]any{"method": "POST", "checkcert": true}
		if err := fill(cfg, s, dest, map[string]string{"address": "address", "method": "method"}, []string{"address"}); err != nil {
			return "", nil, err
		}
		if err := flag(cfg, s, dest, "checkcerts", "checkcert"); err != nil {
			return "", nil, err
		}
		return "webhook", cfg, headers(cfg, s, dest)
	case "opensearch":
		cfg := map[string]any{"index": "falco", "suffix": "daily", "checkcert": false, "minimumpriority": "debug"}
		keys := map[string]string{"hostport": "hostport", "index": "index", "suffix": "suffix", "username": "username", "password": "password",
			"minimumpriority": "minimumpriority"}
		if err := fill(cfg, s, dest, keys, []string{"hostport"}); err != nil {
			return "", nil, err
		}
		for _, k := range []string{"numberofshards", "numberofreplicas"} {
			if err := number(cfg, s, dest, k); err != nil {
				return "", nil, err
			}
		}
		for _, k := range []string{"checkcert", "flattenfields", "createindextemplate"} {
			if err := flag(cfg, s, dest, k, k); err != nil {
				return "", nil, err
			}
		}
		return "elasticsearch", cfg, headers(cfg, s, dest)
	case "splunk":
		cfg := map[string]any{"checkcert": true}
		if err := fill(cfg, s, dest, map[string]string{"host": "host", "token": "token", "minimumpriority": "minimumpriority"}, []string{"host", "token"}); err != nil {
			return "", nil, err
		}
		if err := flag(cfg, s, dest, "checkcert", "checkcert"); err != nil {
			return "", nil, err
		}
		return "splunk", cfg, headers(cfg, s, dest)
	}
	return "", nil, fmt.Errorf("%w: unknown event destination: %s", ErrInputs, dest.Name)
}

// destinationSecret is the Secret of resourceSecretName, with Gardener's
// texts when it is not set or not in the resources.
func destinationSecret(dest servicev1alpha1.Destination, d Destinations) (map[string][]byte, error) {
	if dest.ResourceSecretName == nil || *dest.ResourceSecretName == "" {
		return nil, fmt.Errorf("%w: %s event destination is set but no %s config is defined", ErrInputs, dest.Name, configWord(dest.Name))
	}
	s, ok := d.Secrets[*dest.ResourceSecretName]
	if !ok {
		return nil, fmt.Errorf("%w: %s event destination config %s not found in resources", ErrInputs, dest.Name, *dest.ResourceSecretName)
	}
	// The init container puts the service account's token where the
	// placeholder is: a shoot owner's value must not ask for it.
	for k, v := range s {
		if bytes.Contains(v, []byte(saToken)) {
			return nil, fmt.Errorf("%w: %s event destination: secret %s key %q contains %s, which is reserved for falcosidekick's own token", ErrInputs, dest.Name, *dest.ResourceSecretName, k, saToken)
		}
	}
	return s, nil
}

func configWord(name string) string {
	if name == "custom" {
		return "custom"
	}
	return "secret"
}

// fill copies secret keys (case-sensitive) into cfg; required ones must be there.
func fill(cfg map[string]any, s map[string][]byte, dest servicev1alpha1.Destination, keys map[string]string, required []string) error {
	for _, r := range required {
		if len(s[r]) == 0 {
			return fmt.Errorf("%w: %s event destination: secret %s has no key %q", ErrInputs, dest.Name, *dest.ResourceSecretName, r)
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if v, ok := s[k]; ok {
			cfg[keys[k]] = string(v)
		}
	}
	return nil
}

// flag reads a boolean secret key.
func flag(cfg map[string]any, s map[string][]byte, dest servicev1alpha1.Destination, key, to string) error {
	v, ok := s[key]
	if !ok {
		return nil
	}
	b, err := strconv.ParseBool(string(v))
	if err != nil {
		return fmt.Errorf("%w: %s event destination: secret %s key %q: %q is not true or false", ErrInputs, dest.Name, *dest.ResourceSecretName, key, v)
	}
	cfg[to] = b
	return nil
}

// number reads a secret key that falcosidekick takes as an integer.
func number(cfg map[string]any, s map[string][]byte, dest servicev1alpha1.Destination, key string) error {
	v, ok := s[key]
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 0 {
		return fmt.Errorf("%w: %s event destination: secret %s key %q: %q is not a number", ErrInputs, dest.Name, *dest.ResourceSecretName, key, v)
	}
	cfg[key] = n
	return nil
}

// headers reads customheaders, a YAML map.
func headers(cfg map[string]any, s map[string][]byte, dest servicev1alpha1.Destination) error {
	v, ok := s["customheaders"]
	if !ok {
		return nil
	}
	var h map[string]string
	if err := yaml.Unmarshal(v, &h); err != nil {
		return fmt.Errorf("%w: %s event destination: secret %s key %q is not a YAML map: %w", ErrInputs, dest.Name, *dest.ResourceSecretName, "customheaders", err)
	}
	cfg["customheaders"] = h
	return nil
}

// Warnings are what the Extension status reports about the destinations:
// settings kept for compatibility with Gardener's extension that an
// operator or shoot owner should know are weak.
func Warnings(outputs map[string]any) []string {
	var out []string
	if es, ok := outputs["elasticsearch"].(map[string]any); ok && es["checkcert"] == false {
		out = append(out, "destination opensearch: falcosidekick does not verify the server's certificate (checkcert: false, Gardener's default); set checkcert: \"true\" in its secret")
	}
	return out
}
