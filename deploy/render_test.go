package deploy_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/deploy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func digest(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }

// operator reads testdata/operator.yaml as the extension does.
func operator(t *testing.T, delivery string) *configv1alpha1.Configuration {
	data, err := os.ReadFile("testdata/operator.yaml")
	require.NoError(t, err)
	op, err := configv1alpha1.Decode(data)
	require.NoError(t, err)
	op.Rules.Delivery = delivery
	configv1alpha1.Default(op)
	require.NoError(t, configv1alpha1.Validate(op))
	return op
}

// config decodes a providerConfig and defaults it as the mutator does.
func config(t *testing.T, providerConfig string) *servicev1alpha1.FalcoServiceConfig {
	js, err := yaml.YAMLToJSON([]byte(providerConfig))
	require.NoError(t, err)
	c, err := servicev1alpha1.Decode(js)
	require.NoError(t, err)
	require.NoError(t, servicev1alpha1.SetDefaults(c, func() (string, error) { return "0.42.1", nil }, nil))
	return c
}

const pinned = `  pinned:
  - {name: falco-rules, version: 5.0.0, ref: "registry.example.internal/falcops/falco-rules@` + "sha256:1111111111111111111111111111111111111111111111111111111111111111" + `"}
  - {name: gardener-tuning, version: 1.2.0, ref: "registry.example.internal/falcops/gardener-tuning@` + "sha256:2222222222222222222222222222222222222222222222222222222222222222" + `"}
  - {name: heartbeat, version: 2.0.0, ref: "registry.example.internal/falcops/heartbeat@` + "sha256:3333333333333333333333333333333333333333333333333333333333333333" + `"}
`

func header(version string) string {
	return "apiVersion: falco.extensions.gardener.cloud/v1alpha1\nkind: FalcoServiceConfig\nfalcoVersion: " + version + "\n"
}

// cases are the scenarios of the golden files.
func cases(t *testing.T) map[string]deploy.Inputs {
	falcoctl, inline := operator(t, configv1alpha1.DeliveryFalcoctl), operator(t, configv1alpha1.DeliveryInline)
	custom := []customrules.File{
		{ConfigMap: "ref-team-rules", Name: "a_rules.yaml", Data: []byte("- list: team_binaries\n  items: [nc]\n")},
		{ConfigMap: "ref-team-rules", Name: "b_rules.yaml", Data: []byte("- macro: team_shell\n  condition: proc.name in (team_binaries)\n")},
	}
	return map[string]deploy.Inputs{
		"minimal": {Config: config(t, header("0.42.1")+"rules:\n  standard: [falco-rules]\n"+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.42.1"},
		"all-rules": {Config: config(t, header("0.42.1")+`heartbeatEvent: true
destinations:
- name: stdout
rules:
  standard: [falco-rules]
  custom:
  - resourceName: team-rules
  - shootConfigMap: local-tuning
`+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.42.1", Custom: custom},
		"scheduling": {Config: config(t, header("0.42.1")+`nodeSelector: {worker.gardener.cloud/pool: security}
tolerations:
- {key: dedicated, operator: Equal, value: security, effect: NoSchedule}
- {key: node.gardener.cloud/critical-components-not-ready, operator: Exists, effect: NoSchedule}
falcoConfig:
  resources:
    requests: {cpu: 150m, memory: 768Mi}
    limits: {cpu: "1", memory: 2Gi}
rules:
  standard: [falco-rules]
`+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.42.1"},
		"falco-0.40.0": {Config: config(t, header("0.40.0")+"rules:\n  standard: [falco-rules]\n"+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.40.0"},
		"falco-0.41.3": {Config: config(t, header("0.41.3")+"rules:\n  standard: [falco-rules]\n"+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.41.3"},
		"falco-0.44.1": {Config: config(t, header("0.44.1")+"rules:\n  standard: [falco-rules]\n"+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.44.1"},
		"ipv6":         {Config: config(t, header("0.42.1")+"rules:\n  standard: [falco-rules]\n"+pinned), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.42.1", IPv6First: true},
		"inline": {Config: config(t, header("0.42.1")+"heartbeatEvent: true\nrules:\n  standard: [falco-rules]\n"+pinned), Operator: inline, FalcoImage: "falcosecurity/falco:0.42.1",
			Files: map[string]map[string][]byte{
				"falco-rules":     {"falco_rules.yaml": []byte("- rule: A\n  desc: a\n  condition: evt.type = open\n  output: a\n  priority: INFO\n")},
				"gardener-tuning": {"tuning.yaml": []byte("- list: x\n  items: []\n")},
				"heartbeat":       {"heartbeat_rules.yaml": []byte("- list: y\n  items: []\n")},
			}},
		"sidekick": {Config: config(t, header("0.42.1")+"rules:\n  standard: [falco-rules]\n"+pinned+`destinations:
- name: logging
- name: splunk
  resourceSecretName: hec
`), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.42.1", Sidekick: &deploy.Sidekick{
			Image: "falcosecurity/falcosidekick:2.32.0", ClusterID: "landscape/shoot--p--prod", Certs: placeholderCerts(),
			Destinations: deploy.Destinations{ShortID: "abc12", IngressDomain: "ingress.seed.example",
				Secrets: map[string]map[string][]byte{"hec": {"host": []byte("https://splunk.example:8088/services/collector/event"), "token": []byte("t0k")}}}}},
		"waiting-for-pins": {Config: config(t, header("0.42.1")+"rules:\n  standard: [falco-rules]\n"), Operator: falcoctl, FalcoImage: "falcosecurity/falco:0.42.1"},
	}
}

// placeholderCerts stand for secrets.Ensure's data: the golden files stay
// the same bytes (certificates are random).
func placeholderCerts() map[string][]byte {
	out := map[string][]byte{}
	for _, k := range []string{"server-ca.crt", "client-ca.crt", "server.crt", "server.key", "client.crt", "client.key"} {
		out[k] = []byte("placeholder " + k + "\n")
	}
	return out
}

// TestGolden renders every scenario and compares it with
// testdata/golden/<name>.yaml (go test ./deploy -update rewrites them).
func TestGolden(t *testing.T) {
	for name, in := range cases(t) {
		t.Run(name, func(t *testing.T) {
			objs, err := deploy.Render(in)
			require.NoError(t, err)
			got, err := deploy.YAML(objs)
			require.NoError(t, err)
			again, err := deploy.Render(in)
			require.NoError(t, err)
			gotAgain, _ := deploy.YAML(again)
			require.Equal(t, string(got), string(gotAgain), "Render is not deterministic")
			path := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./deploy -update to write the golden file")
			assert.Equal(t, string(want), string(got))
		})
	}
}

func objectsOf(t *testing.T, in deploy.Inputs) (map[string]*corev1.ConfigMap, map[string]*corev1.Secret, *appsv1.DaemonSet) {
	objs, err := deploy.Render(in)
	require.NoError(t, err)
	cms, secrets := map[string]*corev1.ConfigMap{}, map[string]*corev1.Secret{}
	var ds *appsv1.DaemonSet
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			cms[o.Name] = o
		case *corev1.Secret:
			secrets[o.Name] = o
		case *appsv1.DaemonSet:
			ds = o
		default:
			t.Fatalf("unexpected object %T", o)
		}
	}
	require.NotNil(t, ds)
	return cms, secrets, ds
}

func falcoYAML(t *testing.T, cms map[string]*corev1.ConfigMap) map[string]any {
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(cms["falco"].Data["falco.yaml"]), &doc))
	return doc
}

func container(ds *appsv1.DaemonSet, name string) *corev1.Container {
	for i := range ds.Spec.Template.Spec.Containers {
		if ds.Spec.Template.Spec.Containers[i].Name == name {
			return &ds.Spec.Template.Spec.Containers[i]
		}
	}
	return nil
}

// TestRulesOrder: rules_files in Gardener's order, and the falcoctl
// configuration pins the standard ruleset, what it implies, then heartbeat.
func TestRulesOrder(t *testing.T) {
	cms, secrets, ds := objectsOf(t, cases(t)["all-rules"])
	assert.Equal(t, []any{deploy.RulesDir, "/etc/falco/custom-rules/a_rules.yaml", "/etc/falco/custom-rules/b_rules.yaml",
		deploy.ShootTreeDir}, falcoYAML(t, cms)["rules_files"])
	// The shoot's own ConfigMap goes to the agent, which stages the files that load.
	agent := container(ds, "falcops-agent")
	assert.Contains(t, agent.Command, "--shoot-rules=/etc/falcops/shoot-rules/local-tuning")
	assert.Contains(t, agent.Command, "--before=/etc/falco/custom-rules")
	assert.Equal(t, agent.Command[2:], append(ds.Spec.Template.Spec.InitContainers[0].Command[2:], "--addr=:8090", "--heartbeat=1h"))
	for _, m := range container(ds, "falco").VolumeMounts {
		assert.NotContains(t, m.MountPath, "shoot-custom-rules", "Falco reads only what the agent staged")
	}
	assert.Equal(t, true, falcoYAML(t, cms)["watch_config_files"])
	var cfg struct {
		Artifact struct {
			Install struct {
				Refs []string `json:"refs"`
			} `json:"install"`
		} `json:"artifact"`
	}
	require.NoError(t, yaml.Unmarshal(secrets[deploy.FalcoctlSecret].Data["falcoctl.yaml"], &cfg))
	assert.Equal(t, []string{"falco-rules@" + digest('1'), "gardener-tuning@" + digest('2'), "heartbeat@" + digest('3')}, cfg.Artifact.Install.Refs)
	assert.Contains(t, string(secrets[deploy.FalcoctlSecret].Data["index.yaml"]), "key: /etc/falcoctl/cosign.pub")
}

// TestVersions: -pk below 0.42.0, the container plugin and its six sockets
// from 0.41.2.
func TestVersions(t *testing.T) {
	for _, c := range []struct {
		name           string
		pk, plugin     bool
		socketsMounted int
	}{{"falco-0.40.0", true, false, 1}, {"falco-0.41.3", true, true, 6}, {"falco-0.44.1", false, true, 6}} {
		t.Run(c.name, func(t *testing.T) {
			cms, _, ds := objectsOf(t, cases(t)[c.name])
			falco := container(ds, "falco")
			assert.Equal(t, c.pk, contains(falco.Args, "-pk"))
			_, hasPlugins := falcoYAML(t, cms)["load_plugins"]
			assert.Equal(t, c.plugin, hasPlugins)
			n := 0
			for _, m := range falco.VolumeMounts {
				if strings.HasSuffix(m.MountPath, ".sock") {
					n++
				}
			}
			assert.Equal(t, c.socketsMounted, n)
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestTolerationsAreAdded: the critical-components toleration stays, a
// user's copy of it is not doubled.
func TestTolerationsAreAdded(t *testing.T) {
	_, _, ds := objectsOf(t, cases(t)["scheduling"])
	tol := ds.Spec.Template.Spec.Tolerations
	require.Len(t, tol, 2)
	assert.Equal(t, "node.gardener.cloud/critical-components-not-ready", tol[0].Key)
	assert.Equal(t, "dedicated", tol[1].Key)
	assert.Equal(t, map[string]string{"worker.gardener.cloud/pool": "security"}, ds.Spec.Template.Spec.NodeSelector)
	r := container(ds, "falco").Resources
	assert.Equal(t, "150m", r.Requests.Cpu().String())
	assert.Equal(t, "2Gi", r.Limits.Memory().String())
}

// TestPinChangeKeepsPodTemplate: a new digest changes the falcoctl Secret
// only; the DaemonSet (and so every Falco pod) stays byte for byte.
func TestPinChangeKeepsPodTemplate(t *testing.T) {
	in := cases(t)["all-rules"]
	_, before, dsBefore := objectsOf(t, in)
	in.Config = in.Config.DeepCopy()
	in.Config.Rules.Pinned[0].Ref = "registry.example.internal/falcops/falco-rules@" + digest('9')
	_, after, dsAfter := objectsOf(t, in)
	a, _ := yaml.Marshal(dsBefore)
	b, _ := yaml.Marshal(dsAfter)
	assert.Equal(t, string(a), string(b))
	assert.NotEqual(t, string(before[deploy.FalcoctlSecret].Data["falcoctl.yaml"]), string(after[deploy.FalcoctlSecret].Data["falcoctl.yaml"]))
}

// TestMissingPins: a selected ruleset without a pin loads nothing and is
// reported.
func TestMissingPins(t *testing.T) {
	in := cases(t)["waiting-for-pins"]
	assert.Equal(t, []string{"falco-rules", "gardener-tuning"}, deploy.Missing(in))
	assert.Empty(t, deploy.Missing(cases(t)["minimal"]))
	_, secrets, _ := objectsOf(t, in)
	assert.NotContains(t, string(secrets[deploy.FalcoctlSecret].Data["falcoctl.yaml"]), "@sha256")
}

// TestInlineProjection: inline mode puts each pinned ruleset's files into a
// ConfigMap and projects them into one directory in load order; no
// falcoctl, no init container.
func TestInlineProjection(t *testing.T) {
	cms, secrets, ds := objectsOf(t, cases(t)["inline"])
	assert.Empty(t, secrets)
	assert.Empty(t, ds.Spec.Template.Spec.InitContainers)
	require.Contains(t, cms, "falco-rules")
	require.Contains(t, cms, "falco-heartbeat-rule")
	assert.Equal(t, "registry.example.internal/falcops/falco-rules@"+digest('1'), cms["falco-rules"].Annotations[deploy.AnnotationRef])
	var paths []string
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				for _, it := range s.ConfigMap.Items {
					paths = append(paths, it.Path)
				}
			}
		}
	}
	assert.Equal(t, []string{"010-falco_rules.yaml", "020-tuning.yaml", "030-heartbeat_rules.yaml"}, paths)
	require.NotNil(t, container(ds, "falcops-agent"), "the agent beats for heartbeatEvent")
}

// TestResourceErrors: Gardener's validator texts, every problem at once.
func TestResourceErrors(t *testing.T) {
	in := cases(t)["minimal"]
	in.Config = in.Config.DeepCopy()
	bad, neg, small := "lots", "-1", "10Ki"
	in.Config.FalcoConfig = &servicev1alpha1.FalcoConfig{Resources: &servicev1alpha1.FalcoResources{
		Requests: &servicev1alpha1.ResourceValues{CPU: &bad, Memory: &small},
		Limits:   &servicev1alpha1.ResourceValues{CPU: &neg},
	}}
	_, err := deploy.Render(in)
	require.ErrorIs(t, err, deploy.ErrInputs)
	assert.Contains(t, err.Error(), "falcoConfig.resources.requests.cpu: invalid CPU format: ")
	assert.Contains(t, err.Error(), "falcoConfig.resources.requests.memory: memory is too small (minimum 1Mi), got: 10Ki")
	assert.Contains(t, err.Error(), "falcoConfig.resources.limits.cpu: CPU must be a positive value, got: -1")

	big := "3Gi"
	in.Config.FalcoConfig.Resources = &servicev1alpha1.FalcoResources{Requests: &servicev1alpha1.ResourceValues{Memory: &big}}
	_, err = deploy.Render(in)
	assert.EqualError(t, errorsUnwrapText(err), "falcoConfig.resources: memory request must be less than or equal to limit: request 3Gi is greater than limit 1Gi")
}

func errorsUnwrapText(err error) error {
	if err == nil {
		return nil
	}
	return &textError{strings.TrimPrefix(err.Error(), deploy.ErrInputs.Error()+": ")}
}

type textError struct{ s string }

func (e *textError) Error() string { return e.s }

// TestBadPin: a pin that is not registry/repository@sha256 is refused.
func TestBadPin(t *testing.T) {
	in := cases(t)["minimal"]
	in.Config = in.Config.DeepCopy()
	in.Config.Rules.Pinned[0].Ref = "falco-rules:latest"
	_, err := deploy.Render(in)
	require.ErrorIs(t, err, deploy.ErrInputs)
	assert.Contains(t, err.Error(), `rules.pinned falco-rules: ref "falco-rules:latest" is not registry/repository@sha256:<digest>`)
}

var _ = runtime.Object(nil)
