package publish_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

func TestParseRegistry(t *testing.T) {
	r, err := publish.ParseRegistry("https://ghcr.io/acme/falco/")
	require.NoError(t, err)
	assert.Equal(t, publish.Registry{Host: "ghcr.io", Prefix: "acme/falco"}, r)
	assert.Equal(t, "ghcr.io/acme/falco/heartbeat", r.Repo("heartbeat"))
	assert.Equal(t, "heartbeat", publish.Registry{Host: "h"}.Repository("heartbeat"))
	_, err = publish.ParseRegistry("/x")
	require.Error(t, err)
}

func TestBuild(t *testing.T) {
	sharedtest.UpstreamRulesets(t) // the tuning rulesets depend on upstream's
	root := sharedtest.RepoRoot(t)
	built, findings, err := publish.Build([]string{root})
	require.NoError(t, err)
	assert.Zero(t, findings.Errors())
	require.NotEmpty(t, built)
	for _, b := range built {
		assert.Equal(t, b.Dir.Manifest.Name, b.Artifact.Config.Name)
	}

	bad := sharedtest.WriteFiles(t, t.TempDir(), map[string]string{
		"ruleset.yaml": "name: bad\nversion: 1.0.0\nfiles: [rules.yaml]\n",
		"rules.yaml":   "- rule: r\n  desc: d\n  condition: proc.nmae = x\n  output: o\n  priority: INFO\n",
	})
	built, findings, err = publish.Build([]string{root, bad})
	require.ErrorIs(t, err, publish.ErrInvalid)
	assert.Nil(t, built, "one invalid ruleset packages nothing")
	assert.Equal(t, 1, findings.Errors())

	loose := filepath.Join(bad, "rules.yaml")
	_, _, err = publish.Build([]string{loose})
	require.ErrorContains(t, err, "packaging needs a ruleset folder")
	assert.NotErrorIs(t, err, publish.ErrInvalid, "a usage error, not an input error")
	_, _, err = publish.Build([]string{filepath.Join(bad, "missing")})
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestBuildRefusesSymlinkOutOfRuleset: a rules file that is a symlink out
// of its ruleset folder is never packaged; the finding names the file.
func TestBuildRefusesSymlinkOutOfRuleset(t *testing.T) {
	outside := sharedtest.WriteFiles(t, t.TempDir(), map[string]string{
		"secret.yaml": "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n",
	})
	dir := sharedtest.WriteFiles(t, t.TempDir(), map[string]string{
		"ruleset.yaml": "name: linked\nversion: 1.0.0\nfiles: [rules.yaml]\nrequires: {engine: 0.31.0}\n",
	})
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "rules.yaml")))
	built, findings, err := publish.Build([]string{dir})
	require.ErrorIs(t, err, publish.ErrInvalid)
	assert.Nil(t, built)
	require.Len(t, findings, 1)
	assert.Contains(t, findings[0].Message, `file "rules.yaml": is a symlink to `)
	assert.Contains(t, findings[0].Message, "outside the ruleset folder")
	assert.Contains(t, err.Error(), "validation failed: 1 error;")
}

// release is a publisher for a fresh registry with a generated key.
func release(t *testing.T) (publish.Options, string) {
	t.Helper()
	dir := t.TempDir()
	priv, pub, err := oci.GenerateKeyPair(dir, []byte("pw"))
	require.NoError(t, err)
	signer, err := oci.LoadSigner(context.Background(), priv, func() ([]byte, error) { return []byte("pw"), nil })
	require.NoError(t, err)
	c, err := oci.New(oci.Options{PlainHTTP: true, DockerConfig: filepath.Join(dir, "config.json")})
	require.NoError(t, err)
	reg := publish.Registry{Host: ocitest.New(t).Host, Prefix: "falcops"}
	return publish.Options{Client: c, Registry: reg, Sign: oci.SignOptions{Signer: signer},
		IndexSignature: &artifacts.CosignSignature{Key: pub, IgnoreTlog: true}}, pub
}

func TestRulesetsConverge(t *testing.T) {
	ctx := context.Background()
	opts, pub := release(t)
	var progress []publish.Result
	opts.Progress = func(r publish.Result) { progress = append(progress, r) }
	built, _, err := publish.Build([]string{filepath.Join(sharedtest.RepoRoot(t), "rulesets", "heartbeat")})
	require.NoError(t, err)

	results, idx, err := publish.Rulesets(ctx, built, opts)
	require.NoError(t, err)
	require.Len(t, results, 1)
	assert.Equal(t, publish.Published, results[0].State)
	assert.Equal(t, []string{"2.0.0", "2.0", "2", "latest"}, results[0].Tags)
	assert.Equal(t, results, progress)
	require.Len(t, idx, 1)
	assert.Equal(t, "falcops/heartbeat", idx[0].Repository)
	assert.Equal(t, pub, idx[0].Signature.Cosign.Key)
	repo := opts.Registry.Repo("heartbeat")
	_, err = opts.Client.Verify(ctx, repo+":2", oci.VerifyOptions{KeyRef: pub})
	require.NoError(t, err)

	again, _, err := publish.Rulesets(ctx, built, opts)
	require.NoError(t, err)
	assert.Equal(t, publish.Unchanged, again[0].State)
	assert.Equal(t, results[0].Digest, again[0].Digest)
	assert.Contains(t, again[0].String(), "heartbeat 2.0.0: unchanged (sha256:")

	// Same content, other version: the version is immutable.
	other := ocitest.Package(t, ocitest.Variant(t, built[0].Dir.Dir, "2.0.0", "changed"), artifacts.PackageOptions{})
	built[0].Artifact = other
	_, _, err = publish.Rulesets(ctx, built, opts)
	require.ErrorIs(t, err, oci.ErrImmutable)
	require.ErrorIs(t, err, publish.ErrInvalid)
	assert.ErrorContains(t, err, "change the version in")
}

func TestSignatureAddedWhenMissing(t *testing.T) {
	ctx := context.Background()
	opts, pub := release(t)
	a := ocitest.Package(t, ocitest.Ruleset(t, "demo", "1.0.0", "0.50.0", ""), artifacts.PackageOptions{})
	repo := opts.Registry.Repo("demo")
	_, err := opts.Client.Publish(ctx, repo, a, "1.0.0") // pushed by someone who did not sign
	require.NoError(t, err)
	dir := ocitest.Ruleset(t, "demo", "1.0.0", "0.50.0", "")
	b, _, err := publish.Build([]string{dir})
	require.NoError(t, err)
	results, _, err := publish.Rulesets(ctx, b, opts)
	require.NoError(t, err)
	assert.Equal(t, publish.SignatureAdded, results[0].State)
	assert.Equal(t, "demo 1.0.0: unchanged ("+a.ManifestDigest.String()+"), signature added", results[0].String())
	_, err = opts.Client.Verify(ctx, repo+":1.0.0", oci.VerifyOptions{KeyRef: pub})
	require.NoError(t, err)
}

func TestProfiles(t *testing.T) {
	ctx := context.Background()
	opts, _ := release(t)
	files, err := publish.ReadProfiles(filepath.Join(sharedtest.RepoRoot(t), "profiles"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	res, e, err := publish.Profiles(ctx, files, "https://example.com/r.git", "abc", opts)
	require.NoError(t, err)
	assert.True(t, res.TaggedLatest)
	assert.Equal(t, artifacts.ProfilesVersion(files), res.Version)
	assert.Contains(t, res.String(), "falco-profiles "+res.Version+": published sha256:")
	assert.Equal(t, artifacts.TypeAsset, e.Type)
	require.NotNil(t, e.Signature)
	latest, err := opts.Client.Resolve(ctx, opts.Registry.Repo(artifacts.ProfilesArtifact)+":latest")
	require.NoError(t, err)
	assert.Equal(t, res.Digest, latest.Digest)
	res, _, err = publish.Profiles(ctx, files, "https://example.com/r.git", "def", opts)
	require.NoError(t, err)
	assert.Contains(t, res.String(), ": unchanged sha256:", "another commit, same content")

	none, err := publish.ReadProfiles(filepath.Join(t.TempDir(), "missing"))
	require.NoError(t, err)
	assert.Nil(t, none)
	bad := sharedtest.WriteFiles(t, t.TempDir(), map[string]string{"p.yaml": "kind: FalcoProfile\nbogus: 1\n"})
	_, err = publish.ReadProfiles(bad)
	require.ErrorIs(t, err, publish.ErrInvalid)
}

func TestMergeIndexFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.yaml")
	entry := artifacts.IndexEntry{Name: "a", Type: artifacts.TypeRulesfile, Registry: "r", Repository: "x/a"}
	require.NoError(t, publish.MergeIndexFile(path, artifacts.Index{entry}))
	entry.Name = "b"
	require.NoError(t, publish.MergeIndexFile(path, artifacts.Index{entry}))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	idx, err := artifacts.ParseIndex(data)
	require.NoError(t, err)
	assert.Len(t, idx, 2, "entries merge")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")

	require.NoError(t, os.WriteFile(path, []byte("- name: a\n- name: a\n"), 0o644))
	err = publish.MergeIndexFile(path, artifacts.Index{entry})
	require.ErrorIs(t, err, publish.ErrInvalid)
	data, _ = os.ReadFile(path)
	assert.Equal(t, "- name: a\n- name: a\n", string(data), "an invalid index is left alone")
}
