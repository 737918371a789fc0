package v1alpha1

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

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
	return errors.Join(errs...)
}

// Rulesets are the rulesets a shoot loads, in load order: for each
// standard selection what it implies, then the heartbeat ruleset when
// heartbeat is on; each once, at its first place.
func (c *Configuration) Rulesets(standard []string, heartbeat bool) []string {
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, s := range standard {
		implied, ok := c.Rules.Implies[s]
		if !ok {
			implied = []string{s}
		}
		for _, r := range implied {
			add(r)
		}
	}
	if heartbeat {
		add(c.Rules.Heartbeat)
	}
	return out
}
