package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/deploy"
)

func dests(ds ...servicev1alpha1.Destination) *servicev1alpha1.FalcoServiceConfig {
	return &servicev1alpha1.FalcoServiceConfig{Destinations: &ds}
}

func ref(s string) *string { return &s }

// offers: the operator offers OTLP and a central ingestor.
var offers = &configv1alpha1.Configuration{OTLPLogging: true, Events: configv1alpha1.Events{
	Central: &configv1alpha1.Central{URL: "https://central.example/events"}}}

var facts = deploy.Destinations{ShortID: "abc12", IngressDomain: "ingress.seed.example", CentralToken: "jwt",
	Secrets: map[string]map[string][]byte{
		"hook":   {"address": []byte("https://hook.example/in"), "checkcerts": []byte("false"), "customheaders": []byte("X-Team: sec\nX-Env: prod\n")},
		"hec":    {"host": []byte("https://splunk.example:8088/services/collector/event"), "token": []byte("t0k")},
		"search": {"hostport": []byte("https://os.example:9200"), "username": []byte("u"), "password": []byte("p")},
		"nohost": {"token": []byte("t0k")},
	}}

// TestSidekickOutputs: each destination's falcosidekick keys and values as
// Gardener's extension renders them; disabled entries and stdout render no
// output.
func TestSidekickOutputs(t *testing.T) {
	no := false
	out, err := deploy.SidekickOutputs(dests(
		servicev1alpha1.Destination{Name: "logging"},
		servicev1alpha1.Destination{Name: "custom", ResourceSecretName: ref("hook")},
		servicev1alpha1.Destination{Name: "splunk", ResourceSecretName: ref("hec")},
		servicev1alpha1.Destination{Name: "opensearch", ResourceSecretName: ref("search")},
		servicev1alpha1.Destination{Name: "otlp"},
		servicev1alpha1.Destination{Name: "stdout"},
		servicev1alpha1.Destination{Name: "central", Enabled: &no},
	), offers, facts)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"loki": map[string]any{"hostport": "https://v-abc12.ingress.seed.example", "endpoint": "/vali/api/v1/push", "format": "json",
			"checkcert": false, "customheaders": map[string]any{"Authorization": "Bearer SA_TOKEN"}},
		"webhook": map[string]any{"address": "https://hook.example/in", "method": "POST", "checkcert": false,
			"customheaders": map[string]string{"X-Team": "sec", "X-Env": "prod"}},
		"splunk": map[string]any{"host": "https://splunk.example:8088/services/collector/event", "token": "t0k", "checkcert": true},
		"elasticsearch": map[string]any{"hostport": "https://os.example:9200", "index": "falco", "suffix": "daily", "username": "u", "password": "p",
			"checkcert": false, "minimumpriority": "debug"},
		"otlp": map[string]any{"logs": map[string]any{"endpoint": "https://otc-abc12.ingress.seed.example/opentelemetry.proto.collector.logs.v1.LogsService/Export",
			"protocol": "grpc", "headers": "Authorization=Bearer SA_TOKEN", "checkcert": false}},
	}, out)

	central, err := deploy.SidekickOutputs(dests(servicev1alpha1.Destination{Name: "central"}), offers, facts)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"webhook": map[string]any{"address": "https://central.example/events", "checkcert": true,
		"customheaders": map[string]any{"Authorization": "Bearer jwt"}}}, central)

	assert.True(t, deploy.NeedsSidekick(dests(servicev1alpha1.Destination{Name: "logging"})))
	assert.False(t, deploy.NeedsSidekick(dests(servicev1alpha1.Destination{Name: "stdout"}, servicev1alpha1.Destination{Name: "logging", Enabled: &no})))
}

// TestSidekickOutputErrors: Gardener's texts for a missing or unknown
// secret, the same output key twice, and the checks of secret values.
func TestSidekickOutputErrors(t *testing.T) {
	for name, c := range map[string]struct {
		cfg  *servicev1alpha1.FalcoServiceConfig
		want string
	}{
		"custom without secret":   {dests(servicev1alpha1.Destination{Name: "custom"}), "custom event destination is set but no custom config is defined"},
		"splunk without secret":   {dests(servicev1alpha1.Destination{Name: "splunk"}), "splunk event destination is set but no secret config is defined"},
		"secret not in resources": {dests(servicev1alpha1.Destination{Name: "custom", ResourceSecretName: ref("nope")}), "custom event destination config nope not found in resources"},
		"required key":            {dests(servicev1alpha1.Destination{Name: "splunk", ResourceSecretName: ref("nohost")}), `secret nohost has no key "host"`},
		"same output key":         {dests(servicev1alpha1.Destination{Name: "custom", ResourceSecretName: ref("hook")}, servicev1alpha1.Destination{Name: "central"}), `multiple enabled destinations use the same output key "webhook"`},
		"unknown":                 {dests(servicev1alpha1.Destination{Name: "pigeon", ResourceSecretName: ref("hook")}), "unknown event destination: pigeon"},
	} {
		_, err := deploy.SidekickOutputs(c.cfg, offers, facts)
		require.ErrorIs(t, err, deploy.ErrInputs, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
	bad := facts
	bad.Secrets = map[string]map[string][]byte{"hook": {"address": []byte("x"), "checkcerts": []byte("maybe")}, "h2": {"address": []byte("x"), "customheaders": []byte("[a")}}
	_, err := deploy.SidekickOutputs(dests(servicev1alpha1.Destination{Name: "custom", ResourceSecretName: ref("hook")}), offers, bad)
	assert.ErrorContains(t, err, `"maybe" is not true or false`)
	_, err = deploy.SidekickOutputs(dests(servicev1alpha1.Destination{Name: "custom", ResourceSecretName: ref("h2")}), offers, bad)
	assert.ErrorContains(t, err, `key "customheaders" is not a YAML map`)
	bad.Secrets = map[string]map[string][]byte{"os": {"hostport": []byte("https://os"), "numberofshards": []byte("three")}}
	_, err = deploy.SidekickOutputs(dests(servicev1alpha1.Destination{Name: "opensearch", ResourceSecretName: ref("os")}), offers, bad)
	assert.ErrorContains(t, err, `secret os key "numberofshards": "three" is not a number`)
}
