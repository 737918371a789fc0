package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
)

// peakRSSBound is the most memory (peak resident set) falcops verify may
// use against a hostile registry; the attacks cost 280 MB to 2 GB before
// the bounds. publish decrypts its key with scrypt (64 MiB) first, so it
// may use at most publishRSSMargin more than against an honest registry.
const (
	peakRSSBound     = 100 << 20
	publishRSSMargin = 32 << 20
)

// TestHostileRegistryCLI: falcops as a process against a registry that
// never answers, trickles, or serves huge or endless signature manifests
// ends within --timeout with exit 2 and a message that names the flag, or
// refuses the answer, and never uses more than peakRSSBound.
func TestHostileRegistryCLI(t *testing.T) {
	attack := &ocitest.Switch{}
	host := ocitest.NewWith(t, ocitest.Options{Wrap: attack.Wrap}).Host
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte("pw"))
	require.NoError(t, err)
	t.Setenv("COSIGN_PASSWORD", "pw")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ruleset := filepath.Join(repoWith(t, "heartbeat"), "rulesets", "heartbeat")
	publishArgs := []string{"publish", ruleset, "--registry", host + "/r", "--key", priv, "--plain-http", "--index", ""}
	honest := runProcess(t, publishArgs...)
	require.Equal(t, exitOK, honest.code, honest.stderr)
	t.Logf("publish against the honest registry: peak RSS %.1f MB", float64(honest.peakRSS)/(1<<20))
	verifyArgs := []string{"verify", host + "/r/heartbeat:latest", "--key", pub, "--plain-http"}
	code, out, errOut := runCLI(t, verifyArgs...)
	require.Equal(t, exitOK, code, out+errOut)

	cases := []struct {
		name   string
		attack func(http.Handler) http.Handler
		args   []string
		code   int
		want   string
	}{
		{name: "verify: never answers", attack: ocitest.Silent(ocitest.AnyRequest),
			args: append(verifyArgs, "--timeout", "2s"), code: exitUsage, want: "the registry work did not finish within --timeout 2s"},
		{name: "verify: one byte of the signature manifest every 5s", attack: ocitest.Trickle(ocitest.SignatureManifests, 5*time.Second),
			args: append(verifyArgs, "--timeout", "2s"), code: exitUsage, want: "the registry work did not finish within --timeout 2s"},
		{name: "publish: never answers", attack: ocitest.Silent(ocitest.AnyRequest),
			args: append(publishArgs, "--timeout", "2s"), code: exitUsage, want: "the registry work did not finish within --timeout 2s"},
		{name: "verify: 300k-layer signature manifest", attack: ocitest.SignatureLayers(300_000, 300),
			args: verifyArgs, code: exitUsage, want: "registry answer too large"},
		{name: "verify: 64 signature payloads of 120 MiB", attack: ocitest.SignatureLayers(64, 120<<20),
			args: verifyArgs, code: exitInput, want: "a signature payload of 125829120 bytes is larger than the 65536 bytes falcops reads"},
		{name: "verify: endless signature manifest", attack: ocitest.Endless(ocitest.SignatureManifests),
			args: verifyArgs, code: exitUsage, want: "registry answer too large"},
		{name: "publish: 64 signature payloads of 120 MiB are replaced by a new signature", attack: ocitest.SignatureLayers(64, 120<<20),
			args: publishArgs, code: exitOK, want: "heartbeat 2.0.0: signing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			attack.Set(c.attack)
			defer attack.Set(nil)
			p := runProcess(t, c.args...)
			t.Logf("exit %d after %s, peak RSS %.1f MB: %s", p.code, p.took.Round(time.Millisecond), float64(p.peakRSS)/(1<<20), finalLine(p.stderr))
			assert.Equal(t, c.code, p.code, p.stderr)
			assert.Contains(t, p.stderr, c.want)
			bound := int64(peakRSSBound)
			if c.args[0] == "publish" {
				bound = honest.peakRSS + publishRSSMargin
			}
			assert.Less(t, p.peakRSS, bound, "peak RSS")
			// Generous: the point is that it ends.
			assert.Less(t, p.took, 30*time.Second)
		})
	}
}

// process is one finished falcops process.
type process struct {
	code    int
	stderr  string
	took    time.Duration
	peakRSS int64 // bytes
}

// runProcess runs falcops (this test binary as the CLI) to the end.
func runProcess(t *testing.T, args ...string) process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	rss := filepath.Join(t.TempDir(), "peak-rss")
	cmd.Env = append(os.Environ(), cliEnv+"=1", peakRSSEnv+"="+rss)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	p := process{stderr: stderr.String(), took: time.Since(start)}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	p.code = cmd.ProcessState.ExitCode()
	line, err := os.ReadFile(rss)
	require.NoError(t, err, "the process wrote no peak RSS")
	kb, err := strconv.ParseInt(strings.TrimSuffix(strings.Join(strings.Fields(string(line))[1:2], ""), ""), 10, 64)
	require.NoError(t, err, "VmHWM line %q", line)
	p.peakRSS = kb << 10
	return p
}

func finalLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	line := lines[len(lines)-1]
	if len(line) > 300 {
		line = line[:300] + "..."
	}
	return line
}
