package v1alpha1_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
)

// TestShippedConfiguration: the example in config/extension decodes
// strictly, defaults and validates.
func TestShippedConfiguration(t *testing.T) {
	data, err := os.ReadFile("../../../config/extension/configuration.yaml")
	require.NoError(t, err)
	c, err := configv1alpha1.Decode(data)
	require.NoError(t, err)
	configv1alpha1.Default(c)
	require.NoError(t, configv1alpha1.Validate(c))
	assert.Equal(t, configv1alpha1.DeliveryFalcoctl, c.Rules.Delivery)
}

func TestDecodeIsStrict(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "the configuration is empty",
		"apiVersion: v1\nkind: Pod\n": `apiVersion "v1" kind "Pod", want config.falcops.io/v1alpha1 Configuration`,
		"apiVersion: config.falcops.io/v1alpha1\nkind: Configuration\nimage: {}\n":         `unknown field "image"`,
		"apiVersion: config.falcops.io/v1alpha1\nkind: Configuration\nrules: {deliver: x}": `unknown field "rules.deliver"`,
		"a: [": "not YAML",
	} {
		_, err := configv1alpha1.Decode([]byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
	_, err := configv1alpha1.Decode([]byte(strings.Repeat("#", 2<<20)))
	assert.ErrorContains(t, err, "more than the 1048576 bytes")
}

// TestDefaultAndValidate: Gardener's priority class and destination, the
// falcoctl delivery and heartbeat ruleset by default; every wrong field is
// named.
func TestDefaultAndValidate(t *testing.T) {
	c := &configv1alpha1.Configuration{}
	configv1alpha1.Default(c)
	assert.Equal(t, "gardener-shoot-system-900", c.PriorityClassName)
	assert.Equal(t, "logging", c.DefaultDestination)
	assert.Equal(t, "heartbeat", c.Rules.Heartbeat)
	c.Rules.Delivery = "ftp"
	c.Rules.Implies = map[string][]string{"falco-rules": {}, "x": {"Bad Name"}}
	err := configv1alpha1.Validate(c)
	require.Error(t, err)
	for _, want := range []string{"images.agent: required", `rules.delivery: "ftp" is neither falcoctl nor inline`,
		"rules.cosignPublicKey: required", `rules.implies["falco-rules"]: empty`, `rules.implies["x"][0]: "Bad Name" is not a ruleset name`} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestRulesets(t *testing.T) {
	c := &configv1alpha1.Configuration{Rules: configv1alpha1.Rules{Implies: map[string][]string{
		"falco-rules": {"falco-rules", "gardener-tuning"}, "falco-incubating-rules": {"falco-incubating-rules", "gardener-tuning"}}}}
	configv1alpha1.Default(c)
	assert.Equal(t, []string{"falco-rules", "gardener-tuning", "falco-incubating-rules", "falco-sandbox-rules", "heartbeat"},
		c.Rulesets([]string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules"}, true))
	assert.Empty(t, c.Rulesets(nil, false))
}
