package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/upstream"
)

// upstreamLandscape is an "upstream" registry on 127.0.0.1 holding
// falco-rules releases built from ../shared/upstream-rules, each signed
// keylessly as falcosecurity's release workflow signs (a plain cosign
// signature, a certificate for the workflow's identity from a CA standing
// in for Fulcio, a Rekor bundle), with a cosign v3 bundle fallback tag;
// and the trusted root naming that CA and log.
type upstreamLandscape struct {
	reg         *ocitest.Registry
	repo        string // host/falcosecurity/rules/falco-rules
	trustedRoot string
	digests     map[string]string
	files       map[string][]byte // version -> falco_rules.yaml
}

func newUpstreamLandscape(t *testing.T, versions ...string) *upstreamLandscape {
	t.Helper()
	shared := sharedtest.UpstreamRules(t)
	files := map[string][]byte{}
	built := map[string]*artifacts.Artifact{}
	for _, v := range versions {
		data, err := os.ReadFile(filepath.Join(shared, "falco-rules-"+v, "falco_rules.yaml"))
		require.NoError(t, err)
		files[v] = data
		dir := sharedtest.WriteFiles(t, filepath.Join(t.TempDir(), "falco-rules"), map[string]string{
			"ruleset.yaml": "name: falco-rules\nversion: " + v + "\nfiles: [falco_rules.yaml]\n", "falco_rules.yaml": string(data)})
		built[v] = ocitest.Package(t, dir, artifacts.PackageOptions{})
	}
	u := publishUpstream(t, built)
	u.files = files
	return u
}

// publishUpstream publishes the artifacts by version as falco-rules and
// signs each as upstream's release workflow would.
func publishUpstream(t testing.TB, built map[string]*artifacts.Artifact) *upstreamLandscape {
	t.Helper()
	u := &upstreamLandscape{reg: ocitest.New(t), digests: map[string]string{}}
	u.repo = u.reg.Host + "/falcosecurity/rules/falco-rules"
	ca := ocitest.NewCA(t, "fulcio", true)
	rekor := ocitest.NewRekor(t)
	u.trustedRoot = ocitest.TrustedRootFile(t, []*ocitest.CA{ca}, []*ocitest.Rekor{rekor})
	ctx := context.Background()
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	for v, a := range built {
		res, err := c.Publish(ctx, u.repo, a, v)
		require.NoError(t, err)
		u.digests[v] = res.Digest.String()
		token := ocitest.JWT(t, map[string]any{"iss": upstream.GitHubIssuer, "sub": "repo:falcosecurity/rules:ref:refs/tags/falco-rules-" + v})
		fulcio := ocitest.Fulcio(t, ca, ocitest.FulcioOptions{Token: token, Identity: upstream.ReleaseIdentity("falco-rules", v)})
		require.NoError(t, c.Sign(ctx, u.repo+"@"+res.Digest.String(), oci.SignOptions{IDToken: token, TlogUpload: true, FulcioURL: fulcio, RekorURL: rekor.URL, Plain: true}))
		// The cosign v3 bundle's fallback index, as ghcr.io keeps it.
		sig, err := c.Resolve(ctx, u.repo+":"+oci.SignatureTag(res.Digest))
		require.NoError(t, err)
		require.NoError(t, c.Tag(ctx, u.repo, sig.Digest, strings.TrimSuffix(oci.SignatureTag(res.Digest), ".sig")))
	}
	return u
}

// TestVendor: the upstream release is verified, then written byte for byte
// with its provenance; validate checks the bytes; the wrong identity or
// issuer writes nothing; a second run changes nothing.
func TestVendor(t *testing.T) {
	u := newUpstreamLandscape(t, "5.1.0")
	registry := u.reg.Host + "/falcosecurity/rules"
	out := filepath.Join(t.TempDir(), "rulesets", "falco-rules-5")
	args := []string{"vendor", "falco-rules", "5.1.0", "--registry", registry, "--trusted-root", u.trustedRoot, "--plain-http", "--out", out}

	for name, extra := range map[string][]string{
		"another identity": {"--certificate-identity", upstream.ReleaseIdentity("falco-rules", "5.0.0")},
		"another issuer":   {"--certificate-oidc-issuer", "https://accounts.example.com"},
	} {
		code, stdout, stderr := runCLI(t, append(slicesClone(args), extra...)...)
		assert.Equal(t, exitInput, code, "%s: %s%s", name, stdout, stderr)
		assert.Contains(t, stderr, "not vendored", name)
		assert.NoDirExists(t, out, name+": nothing written")
	}

	code, stdout, stderr := runCLI(t, args...)
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "falco-rules 5.1.0: vendored falco_rules.yaml into "+out)
	assert.Equal(t, u.files["5.1.0"], readFile(t, filepath.Join(out, "falco_rules.yaml")), "byte for byte")
	var m rules.Manifest
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(out, "ruleset.yaml")), &m))
	require.NotNil(t, m.Upstream)
	assert.Equal(t, "falco-rules", m.Name)
	assert.Equal(t, "5.1.0", m.Version)
	assert.Equal(t, u.digests["5.1.0"], m.Upstream.Digest)
	assert.Equal(t, registry+"/falco-rules:5.1.0", m.Upstream.Ref)
	assert.Equal(t, upstream.ReleaseIdentity("falco-rules", "5.1.0"), m.Upstream.Signer.Identity)
	assert.Equal(t, upstream.GitHubIssuer, m.Upstream.Signer.Issuer)

	code, stdout, stderr = runCLI(t, "validate", out)
	assert.Equal(t, exitOK, code, stdout+stderr)
	code, stdout, _ = runCLI(t, args...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "already vendored")

	// An edited upstream file fails validate; vendoring again restores it.
	require.NoError(t, os.WriteFile(filepath.Join(out, "falco_rules.yaml"), append(u.files["5.1.0"], "\n# patched\n"...), 0o644))
	code, stdout, stderr = runCLI(t, "validate", out)
	assert.Equal(t, exitInput, code)
	assert.Contains(t, stdout+stderr, "falco_rules.yaml differs from upstream's "+m.Upstream.Files["falco_rules.yaml"])
	assert.Contains(t, stdout+stderr, "[FALCOPS_VENDORED]")
	code, _, _ = runCLI(t, args...)
	require.Equal(t, exitOK, code)
	assert.Equal(t, u.files["5.1.0"], readFile(t, filepath.Join(out, "falco_rules.yaml")))
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// writeCounter counts the registry requests that write.
type writeCounter struct {
	writes atomic.Int64
	fail   atomic.Value // string: a path suffix whose PUTs fail (past the client's retries)
}

func (w *writeCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.writes.Add(1)
			if suffix, _ := w.fail.Load().(string); suffix != "" && r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, suffix) {
				http.Error(rw, "injected failure", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(rw, r)
	})
}

// TestMirror: releases verified at the source are copied with their
// digests, the legacy .sig and the bundle index, signed with the landscape
// key and tagged; a second run writes nothing; an interrupted run
// converges when run again; the wrong identity copies nothing; an X.Y.Z
// with other content is never overwritten; the real falcoctl installs
// from the mirror with verification on.
func TestMirror(t *testing.T) {
	u := newUpstreamLandscape(t, "5.0.0", "5.1.0")
	counter := &writeCounter{}
	private := ocitest.NewWith(t, ocitest.Options{Wrap: counter.wrap})
	dst := private.Host + "/landscape/falco-rules"
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	require.NoError(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	index := filepath.Join(t.TempDir(), "index.yaml")
	mirror := func(extra ...string) (int, string, string) {
		return runCLI(t, append([]string{"mirror", u.repo, dst, "--key", priv, "--trusted-root", u.trustedRoot, "--plain-http", "--index", index, "--index-key", pub}, extra...)...)
	}

	// The wrong identity: nothing is copied.
	code, stdout, stderr := mirror("--certificate-identity-regexp", `https://github\.com/someone/else/.*`)
	assert.Equal(t, exitInput, code, stdout+stderr)
	assert.Contains(t, stderr, "upstream's signature: nothing copied")
	assert.Zero(t, counter.writes.Load(), "nothing written")

	// Interrupted: the registry refuses the floating tag 5.1 until the
	// first run gave up; the second run finishes.
	counter.fail.Store("/manifests/5.1")
	code, stdout, stderr = mirror()
	require.Equal(t, exitUsage, code, stdout+stderr)
	assert.Contains(t, stderr, "[1/2] falcosecurity/rules/falco-rules:5.0.0: upstream signature verified")
	counter.fail.Store("")
	code, stdout, stderr = mirror()
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "2 releases")

	ctx := context.Background()
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(t, err)
	for v, want := range u.digests {
		got, err := c.Resolve(ctx, dst+":"+v)
		require.NoError(t, err)
		assert.Equal(t, want, got.Digest.String(), "digest preserved for %s", v)
		for _, tag := range []string{oci.SignatureTag(got.Digest), strings.TrimSuffix(oci.SignatureTag(got.Digest), ".sig")} {
			_, err := c.Resolve(ctx, dst+":"+tag)
			assert.NoError(t, err, "%s copied", tag)
		}
		// Both signatures travel: upstream's keyless one and the landscape's.
		_, err = c.Verify(ctx, dst+":"+v, oci.VerifyOptions{KeyRef: pub})
		assert.NoError(t, err, "landscape signature on %s", v)
		_, err = c.Verify(ctx, dst+":"+v, oci.VerifyOptions{TrustedRootFile: u.trustedRoot, CertIdentity: upstream.ReleaseIdentity("falco-rules", v),
			CertOIDCIssuer: upstream.GitHubIssuer, Upstream: true, Repository: "falcosecurity/rules/falco-rules"})
		assert.NoError(t, err, "upstream signature on the mirror's %s", v)
	}
	for tag, v := range map[string]string{"5": "5.1.0", "5.1": "5.1.0", "5.0": "5.0.0", "latest": "5.1.0"} {
		got, err := c.Resolve(ctx, dst+":"+tag)
		require.NoError(t, err)
		assert.Equal(t, u.digests[v], got.Digest.String(), "tag %s", tag)
	}

	// Everything in place: only reads.
	counter.writes.Store(0)
	private.Reset()
	code, stdout, stderr = mirror()
	require.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "0 changed, 2 already in place")
	assert.Zero(t, counter.writes.Load(), "a re-run writes nothing")
	t.Logf("re-run reads: %d requests (%d HEAD manifests, %d GET manifests, %d GET blobs, %d GET tags)", private.Requests(),
		private.RequestsOf("HEAD manifests"), private.RequestsOf("GET manifests"), private.RequestsOf("GET blobs"), private.RequestsOf("GET tags"))

	// Other content under 5.0.0 is never overwritten.
	other := ocitest.RulesetArtifact(t, "falco-rules", "5.0.0", "0.57.0", "other")
	_, err = c.Publish(ctx, private.Host+"/landscape/other", other, "5.0.0")
	require.NoError(t, err)
	code, _, stderr = runCLI(t, "mirror", u.repo, private.Host+"/landscape/other", "--key", priv, "--trusted-root", u.trustedRoot, "--plain-http", "--tags", "5.0.0")
	assert.Equal(t, exitInput, code)
	assert.Contains(t, stderr, "the destination holds other content under this version")

	// The real falcoctl installs from the mirror, verifying the landscape
	// key named in the index entry.
	falcoctl := clitest.Tool(t, "falcoctl")
	idx := readFile(t, index)
	assert.Contains(t, string(idx), "repository: landscape/falco-rules")
	dir := t.TempDir()
	config := clitest.FalcoctlConfig(t, dir, clitest.FalcoctlOptions{})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.yaml"), idx, 0o644))
	stdout, stderr, err = clitest.Run(t, falcoctl, testOfflineEnv(t, pub), "", "artifact", "install", "--config", config, "--plain-http", "--resolve-deps=false", "falco-rules:5.1.0")
	require.NoError(t, err, "%s%s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "Signature successfully verified")
	assert.True(t, bytes.Equal(u.files["5.1.0"], readFile(t, filepath.Join(dir, "rulesfiles", "falco_rules.yaml"))), "falcoctl installed upstream's bytes")
}

// benchMirrored is how many releases the mirror benchmarks copy.
const benchMirrored = 50

func benchUpstream(b *testing.B) *upstreamLandscape {
	built := map[string]*artifacts.Artifact{}
	for i := range benchMirrored {
		v := fmt.Sprintf("1.%d.0", i)
		built[v] = ocitest.RulesetArtifact(b, "falco-rules", v, "0.50.0", "")
	}
	return publishUpstream(b, built)
}

// BenchmarkMirror50 mirrors 50 signed releases into an empty registry:
// verify upstream's keyless signature, copy artifact, .sig and bundle
// index, sign with the landscape key, move the floating tags.
func BenchmarkMirror50(b *testing.B) {
	u := benchUpstream(b)
	priv, _, err := oci.GenerateKeyPair(b.TempDir(), []byte("pw"))
	require.NoError(b, err)
	ctx := context.Background()
	signer, err := oci.LoadSigner(ctx, priv, func() ([]byte, error) { return []byte("pw"), nil })
	require.NoError(b, err)
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	require.NoError(b, err)
	trust := upstream.Trust{TrustedRoot: u.trustedRoot, IdentityRegexp: upstream.ReleaseIdentityRegexp("falco-rules"), Issuer: upstream.GitHubIssuer}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dst := ocitest.New(b).Host + "/landscape/falco-rules"
		b.StartTimer()
		res, err := upstream.Mirror(ctx, upstream.MirrorOptions{Client: c, Source: u.repo, Destination: dst, Trust: trust, Signer: signer})
		require.NoError(b, err)
		require.Len(b, res, benchMirrored)
	}
}

// BenchmarkOrasCopy50 is the baseline: `oras cp -r` of each release (its
// referrers, which the legacy .sig is not) plus `oras cp` of its .sig tag,
// with no verification and no signing.
func BenchmarkOrasCopy50(b *testing.B) {
	oras := clitest.Tool(b, "oras")
	u := benchUpstream(b)
	env := append(os.Environ(), "HOME="+b.TempDir())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dst := ocitest.New(b).Host + "/landscape/falco-rules"
		b.StartTimer()
		for v, d := range u.digests {
			sig := oci.SignatureTag(digestOf(d))
			for _, args := range [][]string{{"cp", "-r", "--from-plain-http", "--to-plain-http", u.repo + ":" + v, dst + ":" + v},
				{"cp", "--from-plain-http", "--to-plain-http", u.repo + ":" + sig, dst + ":" + sig}} {
				cmd := exec.Command(oras, args...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("oras %v: %v\n%s", args, err, out)
				}
			}
		}
	}
}

func digestOf(s string) digest.Digest { return digest.Digest(s) }

// TestValidateExpiredException: `falcops validate` fails on a tuning
// exception past its expiry day, and only warns (failing --strict) when it
// expires within 30 days; the finding names ruleset.yaml's entry.
func TestValidateExpiredException(t *testing.T) {
	write := func(expires string) string {
		root := t.TempDir()
		sharedtest.WriteFiles(t, root, map[string]string{
			"rulesets/upstream-2/ruleset.yaml": "name: upstream\nversion: 2.0.0\nfiles: [u.yaml]\n",
			"rulesets/upstream-2/u.yaml":       "- rule: Shell\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: o\n  priority: INFO\n",
			"rulesets/tuning/ruleset.yaml": "name: tuning\nversion: 1.0.0\nfiles: [t.yaml]\ndependsOn: [{name: upstream, major: 2}]\n" +
				"exceptions:\n  - {rule: Shell, name: sshd, owner: team@example.com, reason: sshd starts shells, expires: \"" + expires + "\"}\n",
			"rulesets/tuning/t.yaml": "- rule: Shell\n  exceptions:\n    - {name: sshd, fields: [proc.pname], comps: [=], values: [[sshd]]}\n  override: {exceptions: append}\n",
		})
		return root
	}
	day := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) }

	code, out, errOut := runCLI(t, "validate", write(day(-2)))
	assert.Equal(t, exitInput, code, out+errOut)
	assert.Contains(t, out+errOut, "rulesets/tuning/ruleset.yaml:6:5: error: exception \"sshd\" of rule \"Shell\" expired on "+day(-2))
	assert.Contains(t, out+errOut, "[FALCOPS_EXCEPTION_EXPIRED]")

	soon := write(day(10))
	code, out, errOut = runCLI(t, "validate", soon)
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out+errOut, "[FALCOPS_EXCEPTION_EXPIRING]")
	code, _, _ = runCLI(t, "validate", "--strict", soon)
	assert.Equal(t, exitInput, code)

	code, out, errOut = runCLI(t, "validate", "--strict", write(day(90)))
	assert.Equal(t, exitOK, code, out+errOut)
}
