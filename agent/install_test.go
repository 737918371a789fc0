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
	"github.com/falcops/falcops/agent/agenttest"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci/ocitest"
)

func read(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// TestInstallPinnedSet: the real falcoctl installs two pinned digests (their
// signatures verified with the index entry's key); the agent checks the
// files against the layers and names them in pin order.
func TestInstallPinnedSet(t *testing.T) {
	l := agenttest.New(t, "heartbeat", "custom-example")
	cfg := l.Config(t, "custom-example@"+l.Digests["custom-example"], "heartbeat@"+l.Digests["heartbeat"])
	set, err := l.Installer(t).Install(context.Background(), cfg)
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
	l := agenttest.New(t, "heartbeat")
	// An unsigned artifact under the same repository: falcoctl refuses it.
	unsigned := ocitest.RulesetArtifact(t, "heartbeat", "9.9.9", "0.31.0", "unsigned")
	desc, err := l.Opts.Client.Push(ctx, l.Opts.Registry.Repo("heartbeat"), unsigned, "9.9.9")
	require.NoError(t, err)
	_, err = l.Installer(t).Install(ctx, l.Config(t, "heartbeat@"+desc.Digest.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no signatures found", "falcoctl's own verification refuses it")

	mount := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mount, "index.yaml"), l.Index.Marshal(), 0o644))
	for ref, want := range map[string]string{
		"heartbeat:1":                                 "want name@sha256:<digest>",
		"missing@" + l.Digests["heartbeat"]:           "not in the index",
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
	unsignedIndex := append(artifacts.Index{}, l.Index...)
	unsignedIndex[0].Signature = nil
	require.NoError(t, os.WriteFile(filepath.Join(mount, "index.yaml"), unsignedIndex.Marshal(), 0o644))
	cfg := artifacts.FalcoctlConfig{IndexURL: "file://index.yaml", Refs: []string{"heartbeat@" + l.Digests["heartbeat"]}, RulesDir: "/r", StateDir: "/s"}
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
	l := agenttest.NewWith(t, ocitest.Options{Wrap: wrap}, "heartbeat")
	in := l.Installer(t)
	tamper.Store(true)
	_, err := in.Install(context.Background(), l.Config(t, "heartbeat@"+l.Digests["heartbeat"]))
	require.ErrorIs(t, err, agent.ErrDigest)
	entries, err := os.ReadDir(in.Work)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing left behind")
}
