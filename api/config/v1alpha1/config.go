package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
)

// maxSize bounds a configuration file: it is read whole.
const maxSize = 1 << 20

// Decode reads a configuration (YAML or JSON) strictly: unknown and
// duplicate fields are errors naming them, apiVersion and kind must be
// this package's. It does not default or validate.
func Decode(data []byte) (*Configuration, error) {
	if len(data) > maxSize {
		return nil, fmt.Errorf("the configuration is %d bytes, more than the %d bytes falcops reads", len(data), maxSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the configuration is empty")
	}
	js, err := yaml.ToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("the configuration is not YAML: %w", err)
	}
	c := &Configuration{}
	strict, err := kjson.UnmarshalStrict(js, c)
	if err != nil {
		return nil, fmt.Errorf("the configuration does not decode: %w", err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("the configuration does not decode: %w", errors.Join(strict...))
	}
	if c.APIVersion != APIVersion || c.Kind != Kind {
		return nil, fmt.Errorf("the configuration is apiVersion %q kind %q, want %s %s", c.APIVersion, c.Kind, APIVersion, Kind)
	}
	return c, nil
}

// Default fills what the operator left out.
func Default(c *Configuration) {
	c.APIVersion, c.Kind = APIVersion, Kind
	if c.PriorityClassName == "" {
		c.PriorityClassName = "gardener-shoot-system-900"
	}
	if c.DefaultDestination == "" {
		c.DefaultDestination = "logging"
	}
	if c.Rules.Delivery == "" {
		c.Rules.Delivery = DeliveryFalcoctl
	}
	if c.Rules.Heartbeat == "" {
		c.Rules.Heartbeat = "heartbeat"
	}
	e := &c.Events
	defaultDuration(&e.ServiceAccountTokenLifetime, 720*time.Hour)
	defaultDuration(&e.Certificates.CALifetime, 2*365*24*time.Hour)
	defaultDuration(&e.Certificates.Lifetime, 180*24*time.Hour)
	defaultDuration(&e.Certificates.RenewBefore, 30*24*time.Hour)
	if e.Central != nil {
		defaultDuration(&e.Central.TokenLifetime, 7*24*time.Hour)
	}
	if e.ClusterIdentityToken != nil {
		defaultDuration(&e.ClusterIdentityToken.TokenLifetime, 7*24*time.Hour)
	}
}

func defaultDuration(d **metav1.Duration, v time.Duration) {
	if *d == nil {
		*d = &metav1.Duration{Duration: v}
	}
}

var rulesetName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Validate reports every field of a defaulted configuration that is wrong,
// by its path.
func Validate(c *Configuration) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.Images.Agent == "" {
		bad("images.agent", "required: the falcops image with falcops-agent and falcoctl")
	}
	switch c.Rules.Delivery {
	case DeliveryFalcoctl, DeliveryInline:
	default:
		bad("rules.delivery", "%q is neither %s nor %s", c.Rules.Delivery, DeliveryFalcoctl, DeliveryInline)
	}
	if !strings.Contains(c.Rules.CosignPublicKey, "-----BEGIN PUBLIC KEY-----") {
		bad("rules.cosignPublicKey", "required: the landscape's cosign public key in PEM")
	}
	if !rulesetName.MatchString(c.Rules.Heartbeat) {
		bad("rules.heartbeat", "%q is not a ruleset name", c.Rules.Heartbeat)
	}
	keys := make([]string, 0, len(c.Rules.Implies))
	for k := range c.Rules.Implies {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(c.Rules.Implies[k]) == 0 {
			bad(fmt.Sprintf("rules.implies[%q]", k), "empty: a selection implies at least one ruleset")
		}
		for i, r := range c.Rules.Implies[k] {
			if !rulesetName.MatchString(r) {
				bad(fmt.Sprintf("rules.implies[%q][%d]", k, i), "%q is not a ruleset name", r)
			}
		}
	}
	validateEvents(c, bad)
	return errors.Join(errs...)
}

// StandardDestinations are the destination names of Gardener's extension;
// a global default may not take one.
var StandardDestinations = []string{"stdout", "logging", "custom", "central", "opensearch", "splunk", "otlp"}

// StandardOutputKeys are the falcosidekick outputs the standard
// destinations write (stdout writes none: it is Falco's own output).
var StandardOutputKeys = map[string]string{
	"logging": "loki", "otlp": "otlp", "custom": "webhook", "central": "webhook", "opensearch": "elasticsearch", "splunk": "splunk",
}

// OutputKey is the falcosidekick output destination name writes: a
// standard one's, or a global default's key.
func (c *Configuration) OutputKey(name string) (string, bool) {
	if k, ok := StandardOutputKeys[name]; ok {
		return k, true
	}
	if c == nil {
		return "", false
	}
	g, ok := c.GlobalDefault(name)
	return g.FalcosidekickOutput.Key, ok
}

var outputKey = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

func validateEvents(c *Configuration, bad func(path, format string, args ...any)) {
	e := &c.Events
	if central := e.Central; central != nil {
		if u, err := url.Parse(central.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("events.central.url", "%q is not an https URL", central.URL)
		}
		validateIssuer("events.central", &central.TokenIssuer, bad)
	}
	if e.ClusterIdentityToken != nil {
		validateIssuer("events.clusterIdentityToken", e.ClusterIdentityToken, bad)
	}
	names, keys := map[string]int{}, map[string]int{}
	for i, g := range c.GlobalDefaultDestinations {
		path := fmt.Sprintf("globalDefaultDestinations[%d]", i)
		switch j, dup := names[g.Name]; {
		case g.Name == "":
			bad(path+".name", "required")
		case slices.Contains(StandardDestinations, g.Name):
			bad(path+".name", "%q is a standard destination name", g.Name)
		case dup:
			bad(path+".name", "%q is already the name of entry %d", g.Name, j)
		}
		names[g.Name] = i
		switch j, dup := keys[g.FalcosidekickOutput.Key]; {
		case !outputKey.MatchString(g.FalcosidekickOutput.Key):
			bad(path+".falcosidekickOutput.key", "%q is not a falcosidekick output key", g.FalcosidekickOutput.Key)
		case dup:
			bad(path+".falcosidekickOutput.key", "%q is already the key of entry %d: each output key once", g.FalcosidekickOutput.Key, j)
		}
		keys[g.FalcosidekickOutput.Key] = i
		vars := TemplateVars{SeedIngressDomain: "seed.example", ServiceAccountToken: "token"}
		if e.ClusterIdentityToken != nil {
			vars.ClusterIdentityToken = "token"
		}
		if _, err := g.FalcosidekickOutput.Render(vars); err != nil {
			bad(path+".falcosidekickOutput.value", "%v", err)
		}
	}
	l := e.Certificates
	switch {
	case l.Lifetime.Duration <= l.RenewBefore.Duration:
		bad("events.certificates.lifetime", "%s is not longer than renewBefore %s", l.Lifetime.Duration, l.RenewBefore.Duration)
	case l.CALifetime.Duration < l.Lifetime.Duration+l.RenewBefore.Duration:
		bad("events.certificates.caLifetime", "%s is shorter than lifetime plus renewBefore (%s): a certificate would outlive its CA", l.CALifetime.Duration, l.Lifetime.Duration+l.RenewBefore.Duration)
	}
	if e.ServiceAccountTokenLifetime.Duration < 10*time.Minute {
		bad("events.serviceAccountTokenLifetime", "%s is shorter than the token requestor's minimum of 10m", e.ServiceAccountTokenLifetime.Duration)
	}
}

func validateIssuer(path string, t *TokenIssuer, bad func(path, format string, args ...any)) {
	if t.PrivateKeyFile == "" {
		bad(path+".privateKeyFile", "required: a file with the PEM RSA private key that signs the tokens")
	}
	if t.TokenLifetime.Duration < 10*time.Minute {
		bad(path+".tokenLifetime", "%s is shorter than 10m", t.TokenLifetime.Duration)
	}
}

// TemplateVars are what a global default's value may use.
type TemplateVars struct {
	SeedIngressDomain, ServiceAccountToken, ClusterIdentityToken string
}

// Render executes every string in the value as a template (delimiters <<
// and >>) with vars and returns the configuration map. Strings, not the
// document's text, are templated so that no value can change the
// document's structure. A variable that is empty (such as
// ClusterIdentityToken without clusterIdentityToken configured) or unknown
// is an error, never an empty string in a header.
func (o FalcosidekickOutput) Render(vars TemplateVars) (map[string]any, error) {
	if o.Value == nil || len(o.Value.Raw) == 0 {
		return nil, errors.New("required: the output's configuration map")
	}
	js, err := yaml.ToJSON(o.Value.Raw)
	if err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		return nil, errors.New("not a configuration map")
	}
	data := map[string]string{}
	for k, v := range map[string]string{"SeedIngressDomain": vars.SeedIngressDomain, "ServiceAccountToken": vars.ServiceAccountToken,
		"ClusterIdentityToken": vars.ClusterIdentityToken} {
		if v != "" {
			data[k] = v
		}
	}
	out, err := templated(m, data)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func templated(v any, data map[string]string) (any, error) {
	switch v := v.(type) {
	case string:
		t, err := template.New("value").Delims("<<", ">>").Option("missingkey=error").Parse(v)
		if err != nil {
			return nil, fmt.Errorf("template: %w", err)
		}
		var out strings.Builder
		if err := t.Execute(&out, data); err != nil {
			if strings.Contains(err.Error(), "ClusterIdentityToken") {
				return nil, errors.New("uses <<.ClusterIdentityToken>> but events.clusterIdentityToken is not configured")
			}
			return nil, fmt.Errorf("template: %w", err)
		}
		return out.String(), nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			t, err := templated(e, data)
			if err != nil {
				return nil, err
			}
			out[k] = t
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			t, err := templated(e, data)
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	}
	return v, nil
}

// GlobalDefault is the global default destination of that name.
func (c *Configuration) GlobalDefault(name string) (GlobalDefaultDestination, bool) {
	for _, g := range c.GlobalDefaultDestinations {
		if g.Name == name {
			return g, true
		}
	}
	return GlobalDefaultDestination{}, false
}

// Rulesets are the rulesets a shoot loads, in load order: the standard
// selections, then what they imply besides themselves (tuning), then the
// heartbeat ruleset when heartbeat is on; each once, at its first place.
// Tuning loads after every standard ruleset because a later file can
// redefine what it tunes: falco-sandbox-rules redefines calico_node,
// which the incubating tuning targets.
func (c *Configuration) Rulesets(standard []string, heartbeat bool) []string {
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, s := range standard {
		implied, ok := c.Rules.Implies[s]
		if !ok || slices.Contains(implied, s) {
			add(s)
		}
	}
	for _, s := range standard {
		for _, r := range c.Rules.Implies[s] {
			add(r)
		}
	}
	if heartbeat {
		add(c.Rules.Heartbeat)
	}
	return out
}
