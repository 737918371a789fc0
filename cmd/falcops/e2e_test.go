package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/publish"
)

// repoWith makes a repository root holding copies of the named rulesets.
func repoWith(t *testing.T, names ...string) string {
	root := t.TempDir()
	for _, n := range names {
		sharedtest.CopyDir(t, filepath.Join("..", "..", "rulesets", n), filepath.Join(root, "rulesets", n))
	}
	return root
}

// bumpHeartbeat changes the heartbeat ruleset's version and rule text.
func bumpHeartbeat(t *testing.T, repo, version, marker string) []byte {
	t.Helper()
	dir := filepath.Join(repo, "rulesets", "heartbeat")
	manifest, err := os.ReadFile(filepath.Join(dir, "ruleset.yaml"))
	must(t, err)
	lines := strings.Split(string(manifest), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "version:") {
			lines[i] = "version: " + version
		}
	}
	must(t, os.WriteFile(filepath.Join(dir, "ruleset.yaml"), []byte(strings.Join(lines, "\n")), 0o644))
	rules, err := os.ReadFile(filepath.Join(dir, "heartbeat_rules.yaml"))
	must(t, err)
	rules = append(rules, []byte("# "+marker+"\n")...)
	must(t, os.WriteFile(filepath.Join(dir, "heartbeat_rules.yaml"), rules, 0o644))
	return rules
}

// testOfflineEnv is what falcoctl needs to verify key-based signatures without
// reaching Sigstore: a local TUF mirror and a CT log key file.
func testOfflineEnv(t *testing.T, pub string) []string {
	return append(clitest.TUFMirror(t), "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE="+pub)
}

// printedInstall reads the falcoctl command `falcops run` printed: its
// environment assignments and its arguments.
func printedInstall(t *testing.T, out string) (env, args []string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  (\S+=\S+(?: \S+=\S+)*) \\\n    falcoctl (.*)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no falcoctl command in:\n%s", out)
	return strings.Fields(m[1]), strings.Fields(m[2])
}

// startRun runs the main job (`falcops run`) in-process and returns its result
// while the registry keeps serving until the test ends.
func startRun(t *testing.T, repo string) (runResult, string) {
	t.Helper()
	o := &runOptions{addr: "127.0.0.1:0", dir: filepath.Join(t.TempDir(), ".falcops"), prefix: "falcops", repo: repo}
	var out bytes.Buffer
	cmd := newRootCmd(&out, &out)
	got := make(chan runResult, 1)
	release := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- o.run(context.Background(), cmd, func(r runResult) error {
			got <- r
			<-release
			return nil
		})
	}()
	t.Cleanup(func() {
		close(release)
		if err := <-errc; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case r := <-got:
		return r, out.String()
	case err := <-errc:
		t.Fatalf("run failed: %v\n%s", err, out.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("run did not publish in time:\n%s", out.String())
	}
	return runResult{}, ""
}

// TestMainJobFalcoctlInstall is `make run` followed by what a shoot does: the
// real falcoctl installs the rules by index name with signature verification
// on, using exactly the printed configuration.
func TestMainJobFalcoctlInstall(t *testing.T) {
	falcoctl := clitest.Tool(t, "falcoctl")
	r, out := startRun(t, "../..")
	for _, want := range []string{"heartbeat 2.0.0: published", artifacts.ProfilesArtifact + " 0.0.0-", "falcoctl artifact install --config " + r.falcoctlConfig} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Exactly the command run printed, environment included: it works
	// offline (the test's processes have no egress).
	env, args := printedInstall(t, out)
	assert.Equal(t, append([]string{"artifact", "install", "--config", r.falcoctlConfig, "--plain-http"}, r.refs...), args)
	stdout, stderr, err := clitest.Run(t, falcoctl, env, "", args...)
	if err != nil {
		t.Fatalf("falcoctl install: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout+stderr, "Signature successfully verified") {
		t.Errorf("falcoctl did not verify a signature:\n%s%s", stdout, stderr)
	}
	rulesDir := filepath.Join(filepath.Dir(r.falcoctlConfig), "rules")
	for _, f := range []string{"heartbeat/heartbeat_rules.yaml", "custom-example/custom_rules.yaml", "custom-example/custom_exceptions.yaml"} {
		want, err := os.ReadFile(filepath.Join("..", "..", "rulesets", f))
		must(t, err)
		got, err := os.ReadFile(filepath.Join(rulesDir, filepath.Base(f)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("installed %s differs from the source (err %v)", filepath.Base(f), err)
		}
	}

	// The same artifacts, but the index names another key: falcoctl must refuse.
	otherDir := t.TempDir()
	_, otherPub, err := oci.GenerateKeyPair(otherDir, []byte("other"))
	must(t, err)
	indexPath := filepath.Join(filepath.Dir(r.falcoctlConfig), "index.yaml")
	data, err := os.ReadFile(indexPath)
	must(t, err)
	must(t, os.WriteFile(indexPath, bytes.ReplaceAll(data, []byte(r.publicKey), []byte(otherPub)), 0o644))
	must(t, os.RemoveAll(rulesDir))
	must(t, os.MkdirAll(rulesDir, 0o755))
	stdout, stderr, err = clitest.Run(t, falcoctl, testOfflineEnv(t, otherPub), "", "artifact", "install", "--config", r.falcoctlConfig, "--plain-http", "heartbeat:2")
	if err == nil {
		t.Fatalf("falcoctl installed an artifact signed with another key:\n%s%s", stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(rulesDir, "heartbeat_rules.yaml")); err == nil {
		t.Error("the refused artifact was written to the rules folder")
	}
}

// TestFalcoctlFollowPicksUpNewVersion: falcoctl follows heartbeat:2 by index
// name; `falcops publish` releases 2.0.1; the new file lands within the interval.
func TestFalcoctlFollowPicksUpNewVersion(t *testing.T) {
	falcoctl := clitest.Tool(t, "falcoctl")
	repo := repoWith(t, "heartbeat")
	r, _ := startRun(t, repo)
	versions := clitest.FalcoVersionsStub(t, "0.62.0")
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	cfg := clitest.FalcoctlConfig(t, dir, clitest.FalcoctlOptions{
		Index: []clitest.IndexEntry{{Name: "heartbeat", Type: "rulesfile", Registry: r.host, Repository: "falcops/heartbeat",
			Signature: &clitest.Signature{Cosign: &clitest.CosignSignature{Key: r.publicKey, IgnoreTlog: true}}}},
		RulesfilesDir: rulesDir, FalcoVersions: versions, Every: "2s",
	})
	follow := clitest.Command(t, falcoctl, testOfflineEnv(t, r.publicKey), "", "artifact", "follow", "--config", cfg, "--plain-http", "--startup-behavior", "immediate", "heartbeat:2")
	var logs bytes.Buffer
	follow.Stdout, follow.Stderr = &logs, &logs
	must(t, follow.Start())

	installed := filepath.Join(rulesDir, "heartbeat_rules.yaml")
	waitFor(t, 60*time.Second, &logs, func() bool { _, err := os.Stat(installed); return err == nil })

	newRules := bumpHeartbeat(t, repo, "2.0.1", "release 2.0.1")
	t.Setenv("COSIGN_PASSWORD", string(readFile(t, filepath.Join(filepath.Dir(r.publicKey), "cosign.password"))))
	code, out, errOut := runCLI(t, "publish", filepath.Join(repo, "rulesets", "heartbeat"), "--registry", r.host+"/falcops",
		"--key", strings.TrimSuffix(r.publicKey, ".pub")+".key", "--plain-http", "--index", "")
	if code != exitOK {
		t.Fatalf("publish 2.0.1: exit %d\n%s%s", code, out, errOut)
	}
	published := time.Now()
	waitFor(t, 60*time.Second, &logs, func() bool { return bytes.Equal(readFileOK(installed), newRules) })
	t.Logf("falcoctl follow installed 2.0.1 %s after publish (interval 2s)", time.Since(published).Round(100*time.Millisecond))
}

func waitFor(t *testing.T, d time.Duration, logs *bytes.Buffer, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out; falcoctl said:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

func readFileOK(p string) []byte {
	b, _ := os.ReadFile(p)
	return b
}

// TestCosignCLIVerifiesOurSignatures: the real cosign CLI accepts what
// `falcops run` signed, offline, with --key.
func TestCosignCLIVerifiesOurSignatures(t *testing.T) {
	cosign := clitest.Tool(t, "cosign")
	r, _ := startRun(t, repoWith(t, "heartbeat"))
	ref := r.host + "/falcops/heartbeat:2.0.0"
	stdout, stderr, err := clitest.Run(t, cosign, nil, "", "verify", "--key", r.publicKey, "--insecure-ignore-tlog", "--allow-http-registry", ref)
	if err != nil {
		t.Fatalf("cosign verify: %v\n%s%s", err, stdout, stderr)
	}
	if !strings.Contains(stdout, "docker-manifest-digest") {
		t.Errorf("cosign printed no verified payload:\n%s", stdout)
	}
	otherDir := t.TempDir()
	_, otherPub, err := oci.GenerateKeyPair(otherDir, []byte("x"))
	must(t, err)
	if _, _, err := clitest.Run(t, cosign, nil, "", "verify", "--key", otherPub, "--insecure-ignore-tlog", "--allow-http-registry", ref); err == nil {
		t.Error("cosign accepted our signature with another key")
	}
}

func TestPublishCLI(t *testing.T) {
	reg := ocitest.New(t)
	host := reg.Host
	keyDir := t.TempDir()
	priv, pub, err := oci.GenerateKeyPair(keyDir, []byte("pw"))
	must(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	repo := repoWith(t, "heartbeat", "custom-example")
	index := filepath.Join(t.TempDir(), "index.yaml")
	publish := func() (int, string) {
		code, out, errOut := runCLI(t, "publish", repo, "--registry", host+"/acme", "--key", priv, "--plain-http", "--index", index)
		return code, out + errOut
	}
	code, out := publish()
	if code != exitOK || !strings.Contains(out, "heartbeat 2.0.0: published") || !strings.Contains(out, "2.0.0, 2.0, 2, latest, signed") {
		t.Fatalf("first publish: exit %d\n%s", code, out)
	}
	idx, err := artifacts.ParseIndex(readFile(t, index))
	must(t, err)
	e, ok := idx.Lookup("heartbeat")
	if !ok || e.Registry != host || e.Repository != "acme/heartbeat" || e.Signature == nil || e.Signature.Cosign.Key != pub {
		t.Fatalf("index entry: %+v", e)
	}
	if code, out, _ := runCLI(t, "verify", host+"/acme/heartbeat:2", "--key", pub, "--plain-http"); code != exitOK {
		t.Fatalf("verify after publish: exit %d %s", code, out)
	}

	// Unchanged content is only read, so that an interrupted release
	// converges: the version, its signature (verified, not just present:
	// manifest, config, signature manifest and payload), the tag list and
	// each floating tag; about a dozen requests per ruleset, no write.
	reg.Reset()
	code, out = publish()
	if code != exitOK || strings.Count(out, "unchanged") != 2 {
		t.Fatalf("re-publish: exit %d\n%s", code, out)
	}
	if n := reg.Requests(); n > 24 {
		t.Errorf("re-publishing 2 unchanged rulesets took %d registry requests, want at most 24", n)
	}
	for _, w := range []string{"PUT manifests", "PUT blobs", "POST blobs", "PATCH blobs"} {
		if n := reg.RequestsOf(w); n > 0 {
			t.Errorf("re-publishing unchanged content wrote: %d %s", n, w)
		}
	}

	// Different content under the same version: exit 1, registry unchanged.
	c, err := oci.New(oci.Options{PlainHTTP: true})
	must(t, err)
	before, err := c.Tags(context.Background(), host+"/acme/heartbeat")
	must(t, err)
	d1, err := c.Resolve(context.Background(), host+"/acme/heartbeat:2.0.0")
	must(t, err)
	rules := filepath.Join(repo, "rulesets", "heartbeat", "heartbeat_rules.yaml")
	must(t, os.WriteFile(rules, append(readFile(t, rules), []byte("# changed without a version bump\n")...), 0o644))
	code, out = publish()
	if code != exitInput || !strings.Contains(out, "change the version") {
		t.Fatalf("publishing changed content under 2.0.0: exit %d, want 1\n%s", code, out)
	}
	after, err := c.Tags(context.Background(), host+"/acme/heartbeat")
	must(t, err)
	d2, err := c.Resolve(context.Background(), host+"/acme/heartbeat:2.0.0")
	must(t, err)
	if strings.Join(before, ",") != strings.Join(after, ",") || d1.Digest != d2.Digest {
		t.Errorf("the registry changed: tags %v -> %v, digest %s -> %s", before, after, d1.Digest, d2.Digest)
	}

	// Invalid rules: nothing is published at all.
	must(t, os.WriteFile(rules, []byte("- rule: broken\n"), 0o644))
	reg.Reset()
	if code, out = publish(); code != exitInput || reg.Requests() != 0 {
		t.Errorf("publishing an invalid ruleset: exit %d, %d registry requests\n%s", code, reg.Requests(), out)
	}
}

func TestVerifyCLIRefuses(t *testing.T) {
	host := ocitest.New(t).Host
	keyDir := t.TempDir()
	priv, pub, err := oci.GenerateKeyPair(keyDir, []byte("pw"))
	must(t, err)
	_, otherPub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	must(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	repo := repoWith(t, "heartbeat", "custom-example")
	if code, out, errOut := runCLI(t, "publish", filepath.Join(repo, "rulesets", "heartbeat"), "--registry", host+"/r", "--key", priv, "--plain-http", "--index", ""); code != exitOK {
		t.Fatalf("publish: %d %s%s", code, out, errOut)
	}
	// custom-example is pushed without a signature.
	c, err := oci.New(oci.Options{PlainHTTP: true})
	must(t, err)
	ctx := context.Background()
	pushUnsigned := func(dir, repoName, version string) string {
		built, _, err := publish.Build([]string{dir})
		must(t, err)
		res, err := c.Publish(ctx, host+"/r/"+repoName, built[0].Artifact, version)
		must(t, err)
		return res.Digest.String()
	}
	pushUnsigned(filepath.Join(repo, "rulesets", "custom-example"), "custom-example", "0.1.0")
	// heartbeat 2.0.1 is pushed unsigned, then 2.0.0's valid signature is
	// copied to 2.0.1's signature tag: its payload names 2.0.0's digest.
	signed, err := c.Resolve(ctx, host+"/r/heartbeat:2.0.0")
	must(t, err)
	bumpHeartbeat(t, repo, "2.0.1", "unsigned")
	d101 := pushUnsigned(filepath.Join(repo, "rulesets", "heartbeat"), "heartbeat", "2.0.1")
	sig, err := c.Resolve(ctx, host+"/r/heartbeat:"+oci.SignatureTag(signed.Digest))
	must(t, err)

	cases := []struct {
		name, ref, key, want string
		setup                func()
	}{
		{"unsigned", host + "/r/custom-example:0.1.0", pub, "no signatures", nil},
		{"wrong key", host + "/r/heartbeat:2.0.0", otherPub, "wrong key", nil},
		{"tampered manifest", host + "/r/heartbeat:2.0.0@" + signed.Digest.String(), pub, "manifest changed", func() {
			// The signed tag now points at other, unsigned content.
			must(t, c.Tag(ctx, host+"/r/heartbeat", digest.Digest(d101), "2.0.0"))
		}},
		{"signature of another digest", host + "/r/heartbeat@" + d101, pub, "digest", func() {
			must(t, c.Tag(ctx, host+"/r/heartbeat", sig.Digest, oci.SignatureTag(digest.Digest(d101))))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			code, out, errOut := runCLI(t, "verify", tc.ref, "--key", tc.key, "--plain-http")
			if code != exitInput || !strings.Contains(errOut, "not verified") || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 1 with %q\n%s%s", code, tc.want, out, errOut)
			}
		})
	}
}

// TestRunOnce is `falcops run --once` as a user types it.
func TestRunOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".falcops")
	code, out, errOut := runCLI(t, "run", "--once", "--addr", "127.0.0.1:0", "--dir", dir, "--repo", repoWith(t, "heartbeat"))
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"created signing key", "heartbeat 2.0.0: published", "falcoctl artifact install --config " + filepath.Join(dir, "falcoctl.yaml") + " --plain-http heartbeat:2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"cosign.key", "cosign.pub", "index.yaml", "falcoctl.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// A second run reuses the key and the registry content.
	code, out, _ = runCLI(t, "run", "--once", "--addr", "127.0.0.1:0", "--dir", dir, "--repo", repoWith(t, "heartbeat"))
	if code != exitOK || strings.Contains(out, "created signing key") || !strings.Contains(out, "heartbeat 2.0.0: unchanged") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
}
