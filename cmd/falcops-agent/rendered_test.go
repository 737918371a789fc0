package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/falcops/falcops/agent/agenttest"
	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

// pod is what kubelet would give the rendered init container: its volumes
// mounted at temporary folders standing for the container paths.
type pod struct {
	falcoctl, rules, tmp string
}

func newPod(t *testing.T) pod {
	root := t.TempDir()
	return pod{falcoctl: filepath.Join(root, "etc-falcoctl"), rules: filepath.Join(root, "etc-falco-rules"), tmp: filepath.Join(root, "tmp")}
}

// path maps the container paths in s to their mounts on this machine.
func (p pod) path(s string) string {
	s = strings.ReplaceAll(s, "/etc/falcoctl", p.falcoctl)
	return strings.ReplaceAll(s, "/etc/falco/rules", p.rules)
}

// arg maps a --flag=value argument whose value is a container path.
func (p pod) arg(a string) string {
	flag, value, ok := strings.Cut(a, "=")
	if !ok {
		return a
	}
	if rest, ok := strings.CutPrefix(value, "/tmp"); ok {
		return flag + "=" + p.tmp + rest
	}
	return flag + "=" + p.path(value)
}

// renderFor renders the shoot objects for pins with the landscape's key.
func renderFor(t *testing.T, l *agenttest.Landscape, pins ...servicev1alpha1.PinnedRuleset) (*corev1.Secret, *appsv1.DaemonSet) {
	key, err := os.ReadFile(l.Pub)
	require.NoError(t, err)
	op := &configv1alpha1.Configuration{Images: configv1alpha1.Images{Agent: "falcops:test"},
		Rules: configv1alpha1.Rules{CosignPublicKey: string(key), Implies: map[string][]string{"falco-rules": {"custom-example"}}}}
	configv1alpha1.Default(op)
	require.NoError(t, configv1alpha1.Validate(op))
	version, yes := "0.42.1", true
	cfg := &servicev1alpha1.FalcoServiceConfig{FalcoVersion: &version, HeartbeatEvent: &yes,
		Rules: &servicev1alpha1.Rules{StandardRules: &[]string{"falco-rules"}, Pinned: pins}}
	require.NoError(t, servicev1alpha1.SetDefaults(cfg, nil, op))
	objs, err := deploy.Render(deploy.Inputs{Config: cfg, Operator: op, FalcoImage: "falcosecurity/falco:0.42.1"})
	require.NoError(t, err)
	var secret *corev1.Secret
	var ds *appsv1.DaemonSet
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			secret = o
		case *appsv1.DaemonSet:
			ds = o
		}
	}
	require.NotNil(t, secret)
	require.NotNil(t, ds)
	return secret, ds
}

// runInit mounts the rendered falcoctl Secret as kubelet does and runs the
// rendered init container's command: falcops-agent install, which runs
// the real falcoctl with the mounted configuration.
func runInit(t *testing.T, l *agenttest.Landscape, p pod, secret *corev1.Secret, ds *appsv1.DaemonSet) (string, error) {
	require.NoError(t, os.MkdirAll(p.falcoctl, 0o755))
	for k, v := range secret.Data {
		require.NoError(t, os.WriteFile(filepath.Join(p.falcoctl, k), []byte(p.path(string(v))), 0o440))
	}
	require.NoError(t, os.MkdirAll(p.rules, 0o755))
	require.NoError(t, os.MkdirAll(p.tmp, 0o755))

	require.Len(t, ds.Spec.Template.Spec.InitContainers, 1)
	init := ds.Spec.Template.Spec.InitContainers[0]
	require.Equal(t, "/falcops-agent", init.Command[0])
	inst := l.Installer(t)
	args := []string{}
	for _, a := range init.Command[1:] {
		args = append(args, strings.Replace(p.arg(a), "/usr/bin/falcoctl", inst.Falcoctl, 1)) // map the mounts first: the tool may live under /tmp
	}
	args = append(args, "--plain-http") // the test registry is HTTP on 127.0.0.1; a shoot's is HTTPS
	out, err := agentProcess(t, inst, args...).CombinedOutput()
	return string(out), err
}

func installed(t *testing.T, p pod) []string {
	entries, err := os.ReadDir(filepath.Join(p.rules, "rules.d"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") {
			names = append(names, e.Name())
		}
	}
	return names
}

func pinOf(l *agenttest.Landscape, name, version, digest string) servicev1alpha1.PinnedRuleset {
	return servicev1alpha1.PinnedRuleset{Name: name, Version: version, Ref: l.Opts.Registry.Repo(name) + "@" + digest}
}

// TestRenderedInitContainerInstallsPins: the init container deploy renders,
// run with its own command and its mounted configuration against the
// in-process registry, installs exactly the pinned digests (falcoctl
// verifies their signatures with the rendered key), in pin order.
func TestRenderedInitContainerInstallsPins(t *testing.T) {
	l := agenttest.New(t, "heartbeat", "custom-example")
	secret, ds := renderFor(t, l, pinOf(l, "custom-example", "1.0.0", l.Digests["custom-example"]), pinOf(l, "heartbeat", "1.0.0", l.Digests["heartbeat"]))
	p := newPod(t)
	out, err := runInit(t, l, p, secret, ds)
	require.NoError(t, err, out)
	assert.Equal(t, []string{"010-custom_exceptions.yaml", "010-custom_rules.yaml", "020-heartbeat_rules.yaml"}, installed(t, p))
	want, err := os.ReadFile(filepath.Join(sharedtest.RepoRoot(t), "rulesets/heartbeat/heartbeat_rules.yaml"))
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(p.rules, "rules.d", "020-heartbeat_rules.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// TestRenderedInitContainerRefuses: an unsigned pin, a pin signed with
// another key and a registry that serves tampered bytes: the init container
// fails and nothing is installed.
func TestRenderedInitContainerRefuses(t *testing.T) {
	ctx := context.Background()
	var tamper atomic.Bool
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tamper.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				_, _ = w.Write([]byte("not the layer"))
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	l := agenttest.NewWith(t, ocitest.Options{Wrap: wrap}, "heartbeat", "custom-example")
	custom := pinOf(l, "custom-example", "1.0.0", l.Digests["custom-example"])

	unsigned := ocitest.RulesetArtifact(t, "heartbeat", "9.9.9", "0.31.0", "unsigned")
	desc, err := l.Opts.Client.Push(ctx, l.Opts.Registry.Repo("heartbeat"), unsigned, "9.9.9")
	require.NoError(t, err)

	dir := t.TempDir()
	priv, _, err := oci.GenerateKeyPair(dir, []byte("other"))
	require.NoError(t, err)
	other, err := oci.LoadSigner(ctx, priv, func() ([]byte, error) { return []byte("other"), nil })
	require.NoError(t, err)
	opts := l.Opts
	opts.Sign = oci.SignOptions{Signer: other}
	built, _, err := publish.Build([]string{ocitest.Variant(t, filepath.Join(sharedtest.RepoRoot(t), "rulesets", "heartbeat"), "1.5.0", "other key")})
	require.NoError(t, err)
	results, _, err := publish.Rulesets(ctx, built, opts)
	require.NoError(t, err)

	for name, c := range map[string]struct {
		pin    servicev1alpha1.PinnedRuleset
		tamper bool
		want   string
	}{
		"unsigned":         {pin: pinOf(l, "heartbeat", "9.9.9", desc.Digest.String()), want: "no signatures found"},
		"signed elsewhere": {pin: pinOf(l, "heartbeat", "1.5.0", results[0].Digest.String()), want: "no matching signatures"},
		"tampered":         {pin: pinOf(l, "heartbeat", "1.0.0", l.Digests["heartbeat"]), tamper: true, want: "digest"},
	} {
		t.Run(name, func(t *testing.T) {
			secret, ds := renderFor(t, l, custom, c.pin)
			p := newPod(t)
			tamper.Store(c.tamper)
			defer tamper.Store(false)
			out, err := runInit(t, l, p, secret, ds)
			require.Error(t, err, out)
			assert.Contains(t, out, c.want)
			assert.Empty(t, installed(t, p), "nothing is installed")
		})
	}
}
