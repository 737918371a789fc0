package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

// TestCrossRepositoryCopyRefused: custom-example's signed artifact and its
// signature copied under heartbeat:2 (what anyone with push access to the
// repository could do) is refused by falcops verify and by the real
// falcoctl installing through our index.
func TestCrossRepositoryCopyRefused(t *testing.T) {
	falcoctl := clitest.Tool(t, "falcoctl")
	r, _ := startRun(t, repoWith(t, "heartbeat", "custom-example"))
	ctx := context.Background()
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	from, to := r.host+"/falcops/custom-example", r.host+"/falcops/heartbeat"
	desc, err := c.Resolve(ctx, from+":0")
	require.NoError(t, err)
	_, err = c.Copy(ctx, from, to, desc.Digest, "2")
	require.NoError(t, err)
	sig, err := c.Resolve(ctx, from+":"+oci.SignatureTag(desc.Digest))
	require.NoError(t, err)
	_, err = c.Copy(ctx, from, to, sig.Digest, oci.SignatureTag(desc.Digest))
	require.NoError(t, err)

	code, out, errOut := runCLI(t, "verify", to+":2", "--key", r.publicKey, "--plain-http")
	assert.Equal(t, exitInput, code, out)
	assert.Contains(t, errOut, "not verified")
	code, _, errOut = runCLI(t, "verify", to+"@"+desc.Digest.String(), "--key", r.publicKey, "--plain-http")
	assert.Equal(t, exitInput, code)
	assert.Contains(t, errOut, `payload names repository "falcops/custom-example", not falcops/heartbeat`)

	// falcoctl v0.13.0 looks the signature up by the artifact's config
	// name (custom-example, a signed entry of the same key) and never
	// compares the signed repository: it installs the copy. This pins that
	// gap, so a falcoctl that closes it shows up here.
	rulesDir := filepath.Join(filepath.Dir(r.falcoctlConfig), "rules")
	stdout, stderr, err := clitest.Run(t, falcoctl, testOfflineEnv(t, r.publicKey), "", "artifact", "install", "--config", r.falcoctlConfig, "--plain-http", "heartbeat:2")
	require.NoError(t, err, "%s%s", stdout, stderr)
	assert.FileExists(t, filepath.Join(rulesDir, "custom_rules.yaml"), "falcoctl installed the copied artifact")

	// What falcops gives a shoot instead: the digest its controller
	// verified (bound to this repository, name and version), by index
	// name. The hijacked tag does not matter.
	genuine := r.digests["heartbeat"]
	require.NoError(t, os.RemoveAll(rulesDir))
	require.NoError(t, os.MkdirAll(rulesDir, 0o755))
	stdout, stderr, err = clitest.Run(t, falcoctl, testOfflineEnv(t, r.publicKey), "", "artifact", "install", "--config", r.falcoctlConfig, "--plain-http", "heartbeat@"+genuine)
	require.NoError(t, err, "%s%s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "Signature successfully verified")
	assert.FileExists(t, filepath.Join(rulesDir, "heartbeat_rules.yaml"))
	assert.NoFileExists(t, filepath.Join(rulesDir, "custom_rules.yaml"))
}

// TestIndexRefusesUnsigned: without a key or identity, index writes no
// entries unless --allow-unsigned, and then says what falcoctl will do; an
// index that names a key makes the real falcoctl refuse unsigned content.
func TestIndexRefusesUnsigned(t *testing.T) {
	falcoctl := clitest.Tool(t, "falcoctl")
	r, _ := startRun(t, repoWith(t, "heartbeat"))
	repo := repoWith(t, "heartbeat")
	out := filepath.Join(t.TempDir(), "index.yaml")
	code, _, errOut := runCLI(t, "index", filepath.Join(repo, "rulesets", "heartbeat"), "--registry", r.host+"/falcops", "--plain-http", "--out", out)
	assert.Equal(t, exitInput, code)
	assert.Contains(t, errOut, "falcoctl installs such artifacts without verifying them")
	assert.NoFileExists(t, out)
	code, stdout, errOut := runCLI(t, "index", filepath.Join(repo, "rulesets", "heartbeat"), "--registry", r.host+"/falcops", "--plain-http", "--out", out, "--allow-unsigned")
	require.Equal(t, exitOK, code, stdout+errOut)
	assert.Contains(t, errOut, "warning: index entries without a signature block")
	idx := string(readFile(t, out))
	assert.Contains(t, idx, "name: heartbeat")
	assert.NotContains(t, idx, "signature:")

	// heartbeat 2.0.1 pushed without a signature; the index run wrote
	// names the key: falcoctl refuses it.
	bumpHeartbeat(t, repo, "2.0.1", "unsigned")
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	built, _, err := publish.Build([]string{filepath.Join(repo, "rulesets", "heartbeat")})
	require.NoError(t, err)
	_, err = c.Publish(context.Background(), r.host+"/falcops/heartbeat", built[0].Artifact, "2.0.1")
	require.NoError(t, err)
	stdout, stderr, err := clitest.Run(t, falcoctl, testOfflineEnv(t, r.publicKey), "", "artifact", "install", "--config", r.falcoctlConfig, "--plain-http", "heartbeat:2")
	require.Error(t, err, "falcoctl installed an unsigned artifact:\n%s%s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "no signatures found")
}

// TestPublishReadsTheIndexFirst: an index file that does not parse stops
// publish before its first registry request, and is left alone.
func TestPublishReadsTheIndexFirst(t *testing.T) {
	reg := ocitest.New(t)
	priv, _, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	require.NoError(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	index := filepath.Join(t.TempDir(), "index.yaml")
	require.NoError(t, os.WriteFile(index, []byte("- name: a\n- name: a\n"), 0o644))
	code, out, errOut := runCLI(t, "publish", repoWith(t, "heartbeat"), "--registry", reg.Host+"/acme", "--key", priv, "--plain-http", "--index", index)
	assert.Equal(t, exitInput, code, out+errOut)
	assert.Contains(t, errOut, index)
	assert.Zero(t, reg.Requests(), "nothing was sent to the registry")
	assert.Equal(t, "- name: a\n- name: a\n", string(readFile(t, index)))
}

// TestPublishShowsProgress: each step of each release is reported on
// stderr (plain lines when stderr is no terminal), a slow step is named,
// and stdout keeps one result line per artifact.
func TestPublishShowsProgress(t *testing.T) {
	slow := slowStep
	slowStep = 100 * time.Millisecond
	t.Cleanup(func() { slowStep = slow })
	reg := ocitest.NewWith(t, ocitest.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".sig") {
				time.Sleep(200 * time.Millisecond) // a slow signature upload
			}
			h.ServeHTTP(w, r)
		})
	}})
	priv, _, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	require.NoError(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	code, out, errOut := runCLI(t, "publish", repoWith(t, "heartbeat", "custom-example"), "--registry", reg.Host+"/acme", "--key", priv, "--plain-http", "--index", "")
	require.Equal(t, exitOK, code, out+errOut)
	for _, want := range []string{"[1/2] custom-example 0.1.0: pushing\n", "[1/2] custom-example 0.1.0: signing\n", "[2/2] heartbeat 2.0.0: moving tags\n"} {
		assert.Contains(t, errOut, want)
	}
	assert.Regexp(t, `heartbeat 2\.0\.0: signing took [0-9.]+m?s \(slow\)`, errOut)
	assert.Equal(t, 2, strings.Count(out, "\n"), "one result line per ruleset on stdout:\n%s", out)
}

// TestHints: a key without COSIGN_PASSWORD, a wrong password, and HTTPS to
// a plain-HTTP registry each end with a hint that says what to do.
func TestHints(t *testing.T) {
	reg := ocitest.New(t)
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	require.NoError(t, err)
	repo := repoWith(t, "heartbeat")
	t.Setenv("COSIGN_PASSWORD", "")
	_, _, errOut := runCLI(t, "publish", repo, "--registry", reg.Host+"/acme", "--key", priv, "--plain-http", "--index", "")
	assert.Contains(t, errOut, "hint: COSIGN_PASSWORD is not set")
	t.Setenv("COSIGN_PASSWORD", "wrong")
	_, _, errOut = runCLI(t, "publish", repo, "--registry", reg.Host+"/acme", "--key", priv, "--plain-http", "--index", "")
	assert.Contains(t, errOut, "hint: COSIGN_PASSWORD is not the password of this key")
	code, _, errOut := runCLI(t, "verify", reg.Host+"/acme/heartbeat:2", "--key", pub)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "hint: the registry speaks plain HTTP: add --plain-http")
}
