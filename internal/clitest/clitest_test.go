package clitest_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/config"
	"github.com/theupdateframework/go-tuf/v2/metadata/updater"
	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
)

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestTUFMirrorServesAValidRepository(t *testing.T) {
	t.Parallel()
	env := envMap(clitest.TUFMirror(t))
	mirror, rootPath := env["TUF_MIRROR"], env["TUF_ROOT_JSON"]
	if !strings.HasPrefix(mirror, "http://127.0.0.1:") || rootPath == "" || env["TUF_ROOT"] == "" {
		t.Fatalf("unexpected environment %v", env)
	}

	resp, err := http.Get(mirror + "/timestamp.json")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET timestamp.json: %s", resp.Status)
	}

	root, err := metadata.Root().FromFile(rootPath)
	if err != nil {
		t.Fatalf("parsing %s: %v", rootPath, err)
	}
	if got := root.Signed.Expires; got.Before(time.Now().AddDate(0, 11, 0)) {
		t.Errorf("root expires %v, want about a year from now", got)
	}

	// A real TUF client, started from 1.root.json, refreshes all metadata and
	// downloads the trusted root through its consistent-snapshot path.
	rootBytes, err := os.ReadFile(rootPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.New(mirror, rootBytes)
	if err != nil {
		t.Fatal(err)
	}
	cfg.LocalMetadataDir = t.TempDir()
	cfg.LocalTargetsDir = t.TempDir()
	up, err := updater.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Refresh(); err != nil {
		t.Fatalf("TUF refresh: %v", err)
	}
	info, err := up.GetTargetInfo(oci.TrustedRootTarget)
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := up.DownloadTarget(info, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != oci.EmptyTrustedRoot {
		t.Errorf("trusted root = %s", data)
	}
}

func TestFalcoVersionsStub(t *testing.T) {
	t.Parallel()
	url := clitest.FalcoVersionsStub(t, "0.55.0")
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got["engine_version"] != "55" || got["engine_version_semver"] != "0.55.0" {
		t.Errorf("engine versions = %v, %v", got["engine_version"], got["engine_version_semver"])
	}
	for _, key := range []string{"falco_version", "libs_version", "plugin_api_version"} {
		if s, _ := got[key].(string); s == "" {
			t.Errorf("%s missing in %v", key, got)
		}
	}
}

func TestFalcoctlConfigNamesOnlyTheLocalIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := clitest.FalcoctlConfig(t, dir, clitest.FalcoctlOptions{
		Index:         []clitest.IndexEntry{{Name: "x", Type: "rulesfile", Registry: "127.0.0.1:1", Repository: "r/x"}},
		FalcoVersions: "http://127.0.0.1:1/versions",
	})
	var cfg struct {
		Indexes  []struct{ Name, URL, Backend string }
		Artifact struct {
			AllowedTypes []string `yaml:"allowedTypes"`
			Install      struct {
				RulesfilesDir string `yaml:"rulesfilesDir"`
			}
			Follow struct {
				FalcoVersions string `yaml:"falcoversions"`
			}
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Indexes) != 1 || cfg.Indexes[0].URL != "file://"+filepath.Join(dir, "index.yaml") {
		t.Errorf("indexes = %+v", cfg.Indexes)
	}
	if got := cfg.Artifact.AllowedTypes; len(got) != 1 || got[0] != "rulesfile" {
		t.Errorf("allowedTypes = %v", got)
	}
	if info, err := os.Stat(cfg.Artifact.Install.RulesfilesDir); err != nil || !info.IsDir() {
		t.Errorf("rulesfilesDir %q: %v", cfg.Artifact.Install.RulesfilesDir, err)
	}
	if cfg.Artifact.Follow.FalcoVersions != "http://127.0.0.1:1/versions" {
		t.Errorf("falcoversions = %q", cfg.Artifact.Follow.FalcoVersions)
	}
}

func TestRunIsolatesTheEnvironment(t *testing.T) {
	envBin, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env binary on PATH")
	}
	t.Setenv("NO_PROXY", "example.invalid") // must not reach the child
	stdout, _, err := clitest.Run(t, envBin, []string{"EXTRA=1", "NO_COLOR=0"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := envMap(strings.Split(strings.TrimSpace(stdout), "\n"))
	home, _ := os.UserHomeDir()
	if got["HOME"] == "" || got["HOME"] == home {
		t.Errorf("HOME = %q, want a fresh temporary directory", got["HOME"])
	}
	if got["PATH"] != os.Getenv("PATH") {
		t.Errorf("PATH not kept")
	}
	for _, key := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		if !strings.HasPrefix(got[key], "http://127.0.0.1:") {
			t.Errorf("%s = %q, want the loopback egress guard", key, got[key])
		}
	}
	if _, ok := got["NO_PROXY"]; ok {
		t.Errorf("NO_PROXY leaked into the child")
	}
	if got["EXTRA"] != "1" || got["NO_COLOR"] != "0" {
		t.Errorf("caller env not applied last: EXTRA=%q NO_COLOR=%q", got["EXTRA"], got["NO_COLOR"])
	}
}

func TestCommandIsKilledAtCleanup(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary on PATH")
	}
	var cmd *exec.Cmd
	t.Run("start", func(t *testing.T) {
		cmd = clitest.Command(t, sleep, nil, "", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(envMap(cmd.Env)["HTTPS_PROXY"], "http://127.0.0.1:") {
			t.Errorf("Command does not set the egress guard: %v", cmd.Env)
		}
	})
	if cmd.ProcessState == nil {
		t.Fatal("the process outlived its test")
	}
}

// recordingTB stands in for a testing.TB to observe Tool's Skip and Fatal.
type recordingTB struct {
	testing.TB
	mu          sync.Mutex
	skip, fatal string
}

func (r *recordingTB) Skip(args ...any) {
	r.mu.Lock()
	r.skip = sprint(args)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.mu.Lock()
	r.fatal = sprint(args)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any)  { r.Skip(fmt.Sprintf(format, args...)) }
func (r *recordingTB) Fatalf(format string, args ...any) { r.Fatal(fmt.Sprintf(format, args...)) }

func sprint(args []any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(a.(string))
	}
	return b.String()
}

// callTool runs clitest.Tool in its own goroutine, as Skip and Fatal end it.
func callTool(t *testing.T, name string) (path string, r *recordingTB) {
	r = &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		path = clitest.Tool(r, name)
	}()
	<-done
	return path, r
}

func TestToolSkipsOrFailsWhenMissing(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("FALCOPS_CACHE", cache)

	t.Setenv(sharedtest.RequireToolsEnv, "")
	if _, r := callTool(t, "falcoctl"); !strings.Contains(r.skip, "hack/tools.sh falcoctl") || r.fatal != "" {
		t.Errorf("missing tool: skip %q, fatal %q", r.skip, r.fatal)
	}
	t.Setenv(sharedtest.RequireToolsEnv, "1")
	if _, r := callTool(t, "falcoctl"); !strings.Contains(r.fatal, "hack/tools.sh falcoctl") || r.skip != "" {
		t.Errorf("missing tool with %s=1: skip %q, fatal %q", sharedtest.RequireToolsEnv, r.skip, r.fatal)
	}

	bin := filepath.Join(cache, "bin", "falcoctl")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if path, r := callTool(t, "falcoctl"); path != bin || r.skip != "" || r.fatal != "" {
		t.Errorf("present tool: path %q, skip %q, fatal %q", path, r.skip, r.fatal)
	}
}

// ---- end to end with the real tools ----

const (
	configMediaType = "application/vnd.cncf.falco.rulesfile.config.v1+json"
	layerMediaType  = "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz"
	demoRules       = `- rule: Demo rule
  desc: A rule that only exists to be installed by a test
  condition: evt.type = open and proc.name = clitest-demo
  output: demo (proc=%proc.name)
  priority: NOTICE
`
)

// tarGz packs one regular file the way falcoctl's own packager does.
func tarGz(t *testing.T, name string, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustRun(t *testing.T, bin string, env []string, dir string, args ...string) string {
	t.Helper()
	stdout, stderr, err := clitest.Run(t, bin, env, dir, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// TestRealFalcoctlVerifiesOfflineCosignSignature is the proof that the
// offline setup works: oras pushes a rulesfile artifact, cosign v2 signs it
// with a key and no transparency log, and falcoctl installs it, verifying the
// signature through the local TUF mirror; with another public key in the
// index, falcoctl refuses it.
func TestRealFalcoctlVerifiesOfflineCosignSignature(t *testing.T) {
	t.Parallel()
	oras := clitest.Tool(t, "oras")
	cosign := clitest.Tool(t, "cosign")
	falcoctl := clitest.Tool(t, "falcoctl")

	reg := ocitest.New(t).Host
	const repo = "falcops/demo-rules"
	work := t.TempDir()

	// The artifact, as in shared/reference/falcoctl-artifacts.md 10.3.
	sharedtest.WriteFiles(t, work, map[string]string{
		"demo-rules.tar.gz": string(tarGz(t, "demo-rules.yaml", []byte(demoRules))),
		"config.json":       `{"name":"demo-rules","version":"1.0.0","requirements":[{"name":"engine_version_semver","version":"0.31.0"}]}`,
	})
	mustRun(t, oras, nil, work, "push", "--plain-http", reg+"/"+repo+":1.0.0",
		"--config", "config.json:"+configMediaType,
		"demo-rules.tar.gz:"+layerMediaType)
	digest := strings.TrimSpace(mustRun(t, oras, nil, work, "resolve", "--plain-http", reg+"/"+repo+":1.0.0"))
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("oras resolve printed %q", digest)
	}
	var manifest struct {
		Layers []struct {
			MediaType   string            `json:"mediaType"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, oras, nil, work, "manifest", "fetch", "--plain-http", reg+"/"+repo+"@"+digest)), &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != layerMediaType ||
		manifest.Layers[0].Annotations["org.opencontainers.image.title"] != "demo-rules.tar.gz" {
		t.Fatalf("oras pushed an unexpected manifest: %+v", manifest)
	}

	// Two key pairs; only the first signs.
	keyEnv := []string{"COSIGN_PASSWORD=clitest"}
	goodDir, wrongDir := filepath.Join(work, "good"), filepath.Join(work, "wrong")
	var wg sync.WaitGroup
	for _, dir := range []string{goodDir, wrongDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if _, _, err := clitest.Run(t, cosign, keyEnv, dir, "generate-key-pair"); err != nil {
				t.Errorf("cosign generate-key-pair in %s: %v", dir, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	mustRun(t, cosign, keyEnv, work, "sign", "--key", filepath.Join(goodDir, "cosign.key"),
		"--tlog-upload=false", "--allow-http-registry", "--yes", reg+"/"+repo+"@"+digest)

	install := func(t *testing.T, pubKey string, offline bool) (rulesDir, output string, err error) {
		dir := t.TempDir()
		cfg := clitest.FalcoctlConfig(t, dir, clitest.FalcoctlOptions{
			Index: []clitest.IndexEntry{{
				Name: "demo-rules", Type: "rulesfile", Registry: reg, Repository: repo,
				Signature: &clitest.Signature{Cosign: &clitest.CosignSignature{Key: pubKey, IgnoreTlog: true}},
			}},
		})
		var env []string
		if offline {
			env = append(clitest.TUFMirror(t), "SIGSTORE_CT_LOG_PUBLIC_KEY_FILE="+pubKey)
		}
		stdout, stderr, err := clitest.Run(t, falcoctl, env, dir,
			"artifact", "install", "demo-rules:1.0.0", "--plain-http", "--config", cfg)
		return filepath.Join(dir, "rulesfiles"), stdout + stderr, err
	}

	t.Run("signing key installs", func(t *testing.T) {
		t.Parallel()
		rulesDir, out, err := install(t, filepath.Join(goodDir, "cosign.pub"), true)
		if err != nil {
			t.Fatalf("falcoctl artifact install: %v\n%s", err, out)
		}
		if !strings.Contains(out, "Signature successfully verified") {
			t.Errorf("falcoctl did not report a verified signature:\n%s", out)
		}
		got, err := os.ReadFile(filepath.Join(rulesDir, "demo-rules.yaml"))
		if err != nil {
			t.Fatalf("installed rules file: %v\nfalcoctl output:\n%s", err, out)
		}
		if string(got) != demoRules {
			t.Errorf("installed rules differ from the source:\n%s", got)
		}
	})

	t.Run("other key is refused", func(t *testing.T) {
		t.Parallel()
		rulesDir, out, err := install(t, filepath.Join(wrongDir, "cosign.pub"), true)
		if err == nil {
			t.Fatalf("falcoctl installed an artifact signed with another key:\n%s", out)
		}
		if !strings.Contains(out, "no matching signatures") {
			t.Errorf("falcoctl failed for another reason than the signature:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(rulesDir, "demo-rules.yaml")); err == nil {
			t.Errorf("the refused artifact was extracted into %s", rulesDir)
		}
	})
	// Control: without the offline environment, verification needs the
	// Sigstore TUF CDN, which the egress guard blocks.
	t.Run("without the offline environment verification fails", func(t *testing.T) {
		t.Parallel()
		rulesDir, out, err := install(t, filepath.Join(goodDir, "cosign.pub"), false)
		if err == nil {
			t.Fatalf("falcoctl verified without the TUF mirror; is the egress guard working?\n%s", out)
		}
		if !strings.Contains(out, "TUF") && !strings.Contains(out, "tuf") {
			t.Errorf("falcoctl failed for another reason than TUF:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(rulesDir, "demo-rules.yaml")); err == nil {
			t.Errorf("the unverified artifact was extracted into %s", rulesDir)
		}
	})
}
