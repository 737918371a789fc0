package agent_test

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

	"github.com/falcops/falcops/agent"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

// landscape is a registry with the repository's rulesets published and
// signed, and a shoot-side falcoctl configuration to point at them.
type landscape struct {
	opts    publish.Options
	pub     string
	index   artifacts.Index
	digests map[string]string
	dir     string
}

func newLandscape(t *testing.T, rulesets ...string) *landscape {
	return newLandscapeWith(t, ocitest.Options{}, rulesets...)
}

func newLandscapeWith(t *testing.T, ro ocitest.Options, rulesets ...string) *landscape {
	ctx := context.Background()
	dir := t.TempDir()
	priv, pub, err := oci.GenerateKeyPair(dir, []byte("pw"))
	require.NoError(t, err)
	signer, err := oci.LoadSigner(ctx, priv, func() ([]byte, error) { return []byte("pw"), nil })
	require.NoError(t, err)
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	l := &landscape{
		opts: publish.Options{Client: c, Registry: publish.Registry{Host: ocitest.NewWith(t, ro).Host, Prefix: "falcops"},
			Sign: oci.SignOptions{Signer: signer}, IndexSignature: &artifacts.CosignSignature{Key: pub, IgnoreTlog: true}},
		pub: pub, digests: map[string]string{}, dir: dir,
	}
	var paths []string
	for _, r := range rulesets {
		paths = append(paths, filepath.Join(sharedtest.RepoRoot(t), "rulesets", r))
	}
	built, _, err := publish.Build(paths)
	require.NoError(t, err)
	results, idx, err := publish.Rulesets(ctx, built, l.opts)
	require.NoError(t, err)
	for _, r := range results {
		l.digests[r.Name] = r.Digest.String()
	}
	l.index = idx
	return l
}

// config writes the falcoctl.yaml and index.yaml a shoot mounts, pinning
// refs, and reads it as the agent does.
func (l *landscape) config(t *testing.T, refs ...string) agent.Config {
	mount := filepath.Join(t.TempDir(), "etc-falcoctl")
	require.NoError(t, os.MkdirAll(mount, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mount, "index.yaml"), l.index.Marshal(), 0o644))
	cfg := artifacts.FalcoctlConfig{IndexURL: "file://" + filepath.Join(mount, "index.yaml"), Refs: refs, RulesDir: "/rulesfiles", StateDir: "/artifactstate"}
	data, err := cfg.Marshal()
	require.NoError(t, err)
	path := filepath.Join(mount, "falcoctl.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	c, err := agent.ReadConfig(path)
	require.NoError(t, err)
	return c
}

func (l *landscape) installer(t *testing.T) agent.Installer {
	env := append(clitest.TUFMirror(t), "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE="+l.pub, "HOME="+t.TempDir())
	return agent.Installer{Falcoctl: clitest.Tool(t, "falcoctl"), Env: env, PlainHTTP: true, Work: t.TempDir()}
}

func read(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// TestInstallPinnedSet: the real falcoctl installs two pinned digests (their
// signatures verified with the index entry's key); the agent checks the
// files against the layers and names them in pin order.
func TestInstallPinnedSet(t *testing.T) {
	l := newLandscape(t, "heartbeat", "custom-example")
	cfg := l.config(t, "custom-example@"+l.digests["custom-example"], "heartbeat@"+l.digests["heartbeat"])
	set, err := l.installer(t).Install(context.Background(), cfg)
	require.NoError(t, err)
	root := sharedtest.RepoRoot(t)
	assert.Equal(t, map[string][]byte{
		"010-custom_exceptions.yaml": read(t, filepath.Join(root, "rulesets/custom-example/custom_exceptions.yaml")),
		"010-custom_rules.yaml":      read(t, filepath.Join(root, "rulesets/custom-example/custom_rules.yaml")),
		"020-heartbeat_rules.yaml":   read(t, filepath.Join(root, "rulesets/heartbeat/heartbeat_rules.yaml")),
	}, set)
}

// TestInstallRefusesUnverifiable: a digest that is not signed, a ref that
// is not a digest pin, an index entry without a key: nothing is installed.
func TestInstallRefusesUnverifiable(t *testing.T) {
	ctx := context.Background()
	l := newLandscape(t, "heartbeat")
	// An unsigned artifact under the same repository: falcoctl refuses it.
	unsigned := ocitest.RulesetArtifact(t, "heartbeat", "9.9.9", "0.31.0", "unsigned")
	desc, err := l.opts.Client.Push(ctx, l.opts.Registry.Repo("heartbeat"), unsigned, "9.9.9")
	require.NoError(t, err)
	_, err = l.installer(t).Install(ctx, l.config(t, "heartbeat@"+desc.Digest.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no signatures found", "falcoctl's own verification refuses it")

	mount := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mount, "index.yaml"), l.index.Marshal(), 0o644))
	for ref, want := range map[string]string{
		"heartbeat:1":                                 "want name@sha256:<digest>",
		"missing@" + l.digests["heartbeat"]:           "not in the index",
		"heartbeat@sha256:" + strings.Repeat("0", 63): "want name@sha256:<digest>",
	} {
		cfg := artifacts.FalcoctlConfig{IndexURL: "file://index.yaml", Refs: []string{ref}, RulesDir: "/r", StateDir: "/s"}
		data, err := cfg.Marshal()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(mount, "falcoctl.yaml"), data, 0o600))
		_, err = agent.ReadConfig(filepath.Join(mount, "falcoctl.yaml"))
		require.ErrorIs(t, err, agent.ErrPins, ref)
		assert.ErrorContains(t, err, want, ref)
	}
	unsignedIndex := append(artifacts.Index{}, l.index...)
	unsignedIndex[0].Signature = nil
	require.NoError(t, os.WriteFile(filepath.Join(mount, "index.yaml"), unsignedIndex.Marshal(), 0o644))
	cfg := artifacts.FalcoctlConfig{IndexURL: "file://index.yaml", Refs: []string{"heartbeat@" + l.digests["heartbeat"]}, RulesDir: "/r", StateDir: "/s"}
	data, err := cfg.Marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mount, "falcoctl.yaml"), data, 0o600))
	_, err = agent.ReadConfig(filepath.Join(mount, "falcoctl.yaml"))
	assert.ErrorContains(t, err, "no signature to verify")
}

// TestInstallRefusesTamperedLayer: a registry that serves other bytes for
// the pinned layer's digest is caught before falcoctl runs.
func TestInstallRefusesTamperedLayer(t *testing.T) {
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
	l := newLandscapeWith(t, ocitest.Options{Wrap: wrap}, "heartbeat")
	in := l.installer(t)
	tamper.Store(true)
	_, err := in.Install(context.Background(), l.config(t, "heartbeat@"+l.digests["heartbeat"]))
	require.ErrorIs(t, err, agent.ErrDigest)
	entries, err := os.ReadDir(in.Work)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing left behind")
}
