package deploy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	"github.com/falcops/falcops/deploy"
)

// seedNamespace is the shoot's namespace in the seed of the destination
// scenarios.
const seedNamespace = "shoot--p--prod"

// eventsOperator is testdata/operator.yaml with the operator's side of the
// events: OTLP, a central ingestor and a global default that uses every
// template variable.
func eventsOperator(t *testing.T) *configv1alpha1.Configuration {
	data, err := os.ReadFile("testdata/operator.yaml")
	require.NoError(t, err)
	data = append(data, []byte(`otlpLogging: true
globalDefaultDestinations:
- name: landscape-siem
  falcosidekickOutput:
    key: splunk
    value:
      host: https://siem.<<.SeedIngressDomain>>/services/collector/event
      token: <<.ClusterIdentityToken>>
      checkcert: true
- name: landscape-archive
  falcosidekickOutput:
    key: loki
    value:
      hostport: https://archive.<<.SeedIngressDomain>>
      customheaders: {Authorization: "Bearer <<.ServiceAccountToken>>"}
events:
  central: {url: "https://central.example/events", privateKeyFile: /keys/central.pem}
  clusterIdentityToken: {privateKeyFile: /keys/identity.pem}
`)...)
	op, err := configv1alpha1.Decode(data)
	require.NoError(t, err)
	configv1alpha1.Default(op)
	require.NoError(t, configv1alpha1.Validate(op))
	return op
}

// destinationCases are the scenarios of testdata/golden/destinations: each
// destination alone and the combinations that interact.
func destinationCases(t *testing.T) map[string]deploy.Inputs {
	op := eventsOperator(t)
	in := func(destinations string) deploy.Inputs {
		return deploy.Inputs{Config: config(t, header("0.42.1")+"rules:\n  standard: [falco-rules]\n"+pinned+"destinations:\n"+destinations),
			Operator: op, FalcoImage: "falcosecurity/falco:0.42.1", Sidekick: &deploy.Sidekick{
				Image: "falcosecurity/falcosidekick:2.32.0", ClusterID: "landscape/shoot--p--prod", Certs: placeholderCerts(), TokenRenewed: "2026-12-01T08:00:00Z",
				Destinations: deploy.Destinations{ShortID: "p--prod", IngressDomain: "ingress.seed.example",
					CentralToken: "central.jwt.placeholder", ClusterIdentityToken: "identity.jwt.placeholder",
					Secrets: map[string]map[string][]byte{
						"hook": {"address": []byte("https://hook.example/in"), "checkcerts": []byte("false"), "method": []byte("PUT"),
							"customheaders": []byte("X-Team: sec\nX-Env: prod\n")},
						"hec": {"host": []byte("https://splunk.example:8088/services/collector/event"), "token": []byte("hec-token"), "minimumpriority": []byte("warning")},
						"search": {"hostport": []byte("https://os.example:9200"), "username": []byte("falco"), "password": []byte("pw"),
							"index": []byte("events"), "numberofshards": []byte("3"), "createindextemplate": []byte("true")},
					}}}}
	}
	return map[string]deploy.Inputs{
		"stdout":     in("- name: stdout\n"),
		"logging":    in("- name: logging\n"),
		"custom":     in("- name: custom\n  resourceSecretName: hook\n"),
		"central":    in("- name: central\n"),
		"opensearch": in("- name: opensearch\n  resourceSecretName: search\n"),
		"splunk":     in("- name: splunk\n  resourceSecretName: hec\n"),
		"otlp":       in("- name: otlp\n"),
		// custom and central are both falcosidekick's webhook: with central
		// disabled, custom has it.
		"custom-and-disabled-central": in("- name: custom\n  resourceSecretName: hook\n- name: central\n  enabled: false\n"),
		"logging-and-otlp":            in("- name: logging\n- name: otlp\n"),
		"all-disabled":                in("- name: logging\n  enabled: false\n- name: custom\n  resourceSecretName: hook\n  enabled: false\n"),
		"stdout-and-central":          in("- name: stdout\n- name: central\n"),
		"global-defaults":             in("- name: landscape-siem\n- name: landscape-archive\n- name: stdout\n"),
		// The mutator disables a global default whose key an enabled
		// destination already uses.
		"global-default-disabled-by-conflict": in("- name: splunk\n  resourceSecretName: hec\n- name: landscape-siem\n  enabled: false\n"),
	}
}

// sameForEveryDestination are the objects the other golden files cover:
// the destination scenarios leave them out to stay readable.
var sameForEveryDestination = map[string]bool{"DaemonSet/falco": true, "Secret/falcoctl": true}

// destinationObjects renders a scenario: the shoot's objects and the
// seed's.
func destinationObjects(t *testing.T, in deploy.Inputs) (shoot, seed []runtime.Object) {
	objs, err := deploy.Render(in)
	require.NoError(t, err)
	for _, o := range objs {
		m, err := meta.Accessor(o)
		require.NoError(t, err)
		if !sameForEveryDestination[o.GetObjectKind().GroupVersionKind().Kind+"/"+m.GetName()] {
			shoot = append(shoot, o)
		}
	}
	seed, err = deploy.SeedObjects(in, seedNamespace)
	require.NoError(t, err)
	return shoot, seed
}

// TestDestinationsGolden compares each scenario with
// testdata/golden/destinations/<name>.yaml: the shoot's objects, then the
// seed's (go test ./deploy -update rewrites them).
func TestDestinationsGolden(t *testing.T) {
	for name, in := range destinationCases(t) {
		t.Run(name, func(t *testing.T) {
			shoot, seed := destinationObjects(t, in)
			a, err := deploy.YAML(shoot)
			require.NoError(t, err)
			b, err := deploy.YAML(seed)
			require.NoError(t, err)
			got := "# shoot\n" + string(a) + "# seed, namespace " + seedNamespace + "\n" + string(b)
			path := filepath.Join("testdata", "golden", "destinations", name+".yaml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./deploy -update to write the golden file")
			assert.Equal(t, string(want), got)
		})
	}
}

// TestDestinationConflicts: enabled destinations that share an output key
// are refused with Gardener's text, whether standard or global default;
// a global default that needs the cluster identity token fails until the
// shoot has one.
func TestDestinationConflicts(t *testing.T) {
	base := destinationCases(t)["custom"]
	for destinations, want := range map[string]string{
		"- name: custom\n  resourceSecretName: hook\n- name: central\n":       `multiple enabled destinations use the same output key "webhook"`,
		"- name: splunk\n  resourceSecretName: hec\n- name: landscape-siem\n": `multiple enabled destinations use the same output key "splunk"`,
		"- name: logging\n- name: landscape-archive\n":                        `multiple enabled destinations use the same output key "loki"`,
	} {
		in := base
		in.Config = config(t, header("0.42.1")+"rules:\n  standard: [falco-rules]\n"+pinned+"destinations:\n"+destinations)
		_, err := deploy.Render(in)
		require.ErrorIs(t, err, deploy.ErrInputs, destinations)
		assert.ErrorContains(t, err, want, destinations)
	}
	in := destinationCases(t)["global-defaults"]
	sk := *in.Sidekick
	sk.Destinations.ClusterIdentityToken = ""
	in.Sidekick = &sk
	_, err := deploy.Render(in)
	assert.ErrorContains(t, err, "global default destination landscape-siem: uses <<.ClusterIdentityToken>>")
}
