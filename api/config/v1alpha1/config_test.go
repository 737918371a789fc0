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
		"falco-rules": {"falco-rules", "gardener-tuning"}, "falco-incubating-rules": {"falco-incubating-rules", "gardener-tuning-incubating"}}}}
	configv1alpha1.Default(c)
	// Tuning loads after every standard ruleset: sandbox redefines what
	// the incubating tuning targets.
	assert.Equal(t, []string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules", "gardener-tuning", "gardener-tuning-incubating", "heartbeat"},
		c.Rulesets([]string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules"}, true))
	assert.Equal(t, []string{"falco-rules", "gardener-tuning"}, c.Rulesets([]string{"falco-rules"}, false))
	assert.Empty(t, c.Rulesets(nil, false))
}

const header = "apiVersion: config.falcops.io/v1alpha1\nkind: Configuration\nimages: {agent: falcops:test}\nrules: {cosignPublicKey: \"-----BEGIN PUBLIC KEY-----\"}\n"

// TestEventsDefaultsAndChecks: Gardener's lifetimes by default, and each
// inconsistent events setting named by its path.
func TestEventsDefaultsAndChecks(t *testing.T) {
	c, err := configv1alpha1.Decode([]byte(header + "events:\n  central: {url: https://central.example/in, privateKeyFile: /keys/central.pem}\n"))
	require.NoError(t, err)
	configv1alpha1.Default(c)
	require.NoError(t, configv1alpha1.Validate(c))
	assert.Equal(t, "720h0m0s", c.Events.ServiceAccountTokenLifetime.Duration.String())
	assert.Equal(t, "17520h0m0s", c.Events.Certificates.CALifetime.Duration.String())
	assert.Equal(t, "4320h0m0s", c.Events.Certificates.Lifetime.Duration.String())
	assert.Equal(t, "720h0m0s", c.Events.Certificates.RenewBefore.Duration.String())
	assert.Equal(t, "168h0m0s", c.Events.Central.TokenLifetime.Duration.String())

	for in, want := range map[string]string{
		"events:\n  central: {url: http://central.example, privateKeyFile: k}\n":                                                                                                 `events.central.url: "http://central.example" is not an https URL`,
		"events:\n  central: {url: https://central.example}\n":                                                                                                                   "events.central.privateKeyFile: required",
		"events:\n  certificates: {lifetime: 10h, renewBefore: 20h}\n":                                                                                                           "events.certificates.lifetime: 10h0m0s is not longer than renewBefore 20h0m0s",
		"events:\n  certificates: {caLifetime: 100h, lifetime: 90h, renewBefore: 20h}\n":                                                                                         "a certificate would outlive its CA",
		"globalDefaultDestinations:\n- {name: logging, falcosidekickOutput: {key: loki, value: {hostport: x}}}\n":                                                                `globalDefaultDestinations[0].name: "logging" is a standard destination name`,
		"globalDefaultDestinations:\n- {name: a, falcosidekickOutput: {key: loki, value: {hostport: x}}}\n- {name: b, falcosidekickOutput: {key: loki, value: {hostport: y}}}\n": `globalDefaultDestinations[1].falcosidekickOutput.key: "loki" is already the key of entry 0`,
		"globalDefaultDestinations:\n- {name: a, falcosidekickOutput: {key: webhook, value: {address: '<<.Nope>>'}}}\n":                                                          "globalDefaultDestinations[0].falcosidekickOutput.value: template",
		"globalDefaultDestinations:\n- {name: a, falcosidekickOutput: {key: webhook, value: {customheaders: {Authorization: 'Bearer <<.ClusterIdentityToken>>'}}}}\n":            "uses <<.ClusterIdentityToken>> but events.clusterIdentityToken is not configured",
		"globalDefaultDestinations:\n- {name: a, falcosidekickOutput: {key: webhook}}\n":                                                                                         "required: the output's configuration map",
	} {
		c, err := configv1alpha1.Decode([]byte(header + in))
		require.NoError(t, err, in)
		configv1alpha1.Default(c)
		assert.ErrorContains(t, configv1alpha1.Validate(c), want, in)
	}
}

// TestGlobalDefaultRender: every string of the value is templated, none
// can change the map's structure, numbers and booleans stay as they are.
func TestGlobalDefaultRender(t *testing.T) {
	c, err := configv1alpha1.Decode([]byte(header + `globalDefaultDestinations:
- name: landscape-siem
  falcosidekickOutput:
    key: webhook
    value:
      address: https://siem.<<.SeedIngressDomain>>/falco
      checkcert: true
      customheaders:
        Authorization: Bearer <<.ServiceAccountToken>>
      mutualtls: false
      list: ["<<.SeedIngressDomain>>", 3]
`))
	require.NoError(t, err)
	g, ok := c.GlobalDefault("landscape-siem")
	require.True(t, ok)
	out, err := g.FalcosidekickOutput.Render(configv1alpha1.TemplateVars{SeedIngressDomain: "ingress.seed.example", ServiceAccountToken: "x\nevil: 1"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"address": "https://siem.ingress.seed.example/falco", "checkcert": true, "mutualtls": false,
		"customheaders": map[string]any{"Authorization": "Bearer x\nevil: 1"}, "list": []any{"ingress.seed.example", float64(3)}}, out)
	_, ok = c.GlobalDefault("nope")
	assert.False(t, ok)
}
