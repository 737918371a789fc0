// Package agenttest builds what the agent's tests run against: a registry
// with the repository's rulesets published and signed, the falcoctl
// Secret volume a shoot mounts, and an Installer with the real falcoctl
// working offline. Imported from _test.go files only.
package agenttest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/agent"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

// Landscape is a registry with the repository's rulesets published and
// signed, and a shoot-side falcoctl configuration to point at them.
type Landscape struct {
	Opts    publish.Options
	Pub     string
	Index   artifacts.Index
	Digests map[string]string
}

func New(t testing.TB, rulesets ...string) *Landscape {
	return NewWith(t, ocitest.Options{}, rulesets...)
}

func NewWith(t testing.TB, ro ocitest.Options, rulesets ...string) *Landscape {
	ctx := context.Background()
	dir := t.TempDir()
	priv, pub, err := oci.GenerateKeyPair(dir, []byte("pw"))
	require.NoError(t, err)
	signer, err := oci.LoadSigner(ctx, priv, func() ([]byte, error) { return []byte("pw"), nil })
	require.NoError(t, err)
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	l := &Landscape{
		Opts: publish.Options{Client: c, Registry: publish.Registry{Host: ocitest.NewWith(t, ro).Host, Prefix: "falcops"},
			Sign: oci.SignOptions{Signer: signer}, IndexSignature: &artifacts.CosignSignature{Key: pub, IgnoreTlog: true}},
		Pub: pub, Digests: map[string]string{},
	}
	var paths []string
	for _, r := range rulesets {
		paths = append(paths, filepath.Join(sharedtest.RepoRoot(t), "rulesets", r))
	}
	built, _, err := publish.Build(paths)
	require.NoError(t, err)
	results, idx, err := publish.Rulesets(ctx, built, l.Opts)
	require.NoError(t, err)
	for _, r := range results {
		l.Digests[r.Name] = r.Digest.String()
	}
	l.Index = idx
	return l
}

// Config writes the falcoctl.yaml and index.yaml a shoot mounts, pinning
// refs, and reads it as the agent does.
func (l *Landscape) Config(t testing.TB, refs ...string) agent.Config {
	mount := filepath.Join(t.TempDir(), "etc-falcoctl")
	require.NoError(t, os.MkdirAll(mount, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mount, "index.yaml"), l.Index.Marshal(), 0o644))
	cfg := artifacts.FalcoctlConfig{IndexURL: "file://" + filepath.Join(mount, "index.yaml"), Refs: refs, RulesDir: "/rulesfiles", StateDir: "/artifactstate"}
	data, err := cfg.Marshal()
	require.NoError(t, err)
	path := filepath.Join(mount, "falcoctl.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	c, err := agent.ReadConfig(path)
	require.NoError(t, err)
	return c
}

func (l *Landscape) Installer(t testing.TB) agent.Installer {
	env := append(clitest.TUFMirror(t), "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE="+l.Pub, "HOME="+t.TempDir())
	return agent.Installer{Falcoctl: clitest.Tool(t, "falcoctl"), Env: env, PlainHTTP: true, Work: t.TempDir()}
}

// PublishVariant publishes a changed copy of a shipped ruleset under
// version and returns its digest.
func (l *Landscape) PublishVariant(t testing.TB, ruleset, version string) string {
	dir := ocitest.Variant(t, filepath.Join(sharedtest.RepoRoot(t), "rulesets", ruleset), version, version)
	built, _, err := publish.Build([]string{dir})
	require.NoError(t, err)
	results, _, err := publish.Rulesets(context.Background(), built, l.Opts)
	require.NoError(t, err)
	return results[0].Digest.String()
}

// Mount writes the falcoctl Secret volume as kubelet does (one atomic swap
// of ..data) and returns the path of its falcoctl.yaml.
func (l *Landscape) Mount(t testing.TB, vol agent.Tree, refs ...string) string {
	cfg := artifacts.FalcoctlConfig{IndexURL: "file://" + filepath.Join(vol.Root, "index.yaml"), Refs: refs, RulesDir: "/rulesfiles", StateDir: "/artifactstate"}
	data, err := cfg.Marshal()
	require.NoError(t, err)
	_, err = vol.Swap(map[string][]byte{"falcoctl.yaml": data, "index.yaml": l.Index.Marshal()})
	require.NoError(t, err)
	return filepath.Join(vol.Root, "falcoctl.yaml")
}
