package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/agent"
	"github.com/falcops/falcops/agent/agenttest"
)

// agentEnv makes the test binary run falcops-agent, so tests run it as a
// process of its own.
const agentEnv = "FALCOPS_TEST_RUN_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(agentEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func agentProcess(t *testing.T, inst agent.Installer, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(inst.Env, agentEnv+"=1")
	return cmd
}

// serving starts the agent process and returns the address it serves on,
// read from its log.
func serving(t *testing.T, cmd *exec.Cmd) string {
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stderr)
	var addr string
	for addr == "" && lines.Scan() {
		if m := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`).FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
		}
	}
	require.NotEmpty(t, addr)
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAgentProcess runs falcops-agent as the pod does: install (the init
// container) puts the pinned set in place; watch follows a pin change and
// reports readiness; SIGTERM stops it cleanly.
func TestAgentProcess(t *testing.T) {
	l := agenttest.New(t, "heartbeat", "custom-example")
	inst := l.Installer(t)
	vol := agent.Tree{Root: filepath.Join(t.TempDir(), "etc-falcoctl")}
	config := l.Mount(t, vol, "custom-example@"+l.Digests["custom-example"], "heartbeat@"+l.Digests["heartbeat"])
	rules := filepath.Join(t.TempDir(), "rules", "rules.d")
	flags := []string{"--config", config, "--rules", rules, "--work", t.TempDir(), "--falcoctl", inst.Falcoctl, "--plain-http", "--interval", "50ms"}

	out, err := agentProcess(t, inst, append([]string{"install"}, flags...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "installed [custom-example@"+l.Digests["custom-example"])
	assert.FileExists(t, filepath.Join(rules, "010-custom_rules.yaml"))
	assert.FileExists(t, filepath.Join(rules, "020-heartbeat_rules.yaml"))

	watch := agentProcess(t, inst, append([]string{"watch", "--addr", "127.0.0.1:0"}, flags...)...)
	addr := serving(t, watch)
	require.Eventually(t, func() bool { code, _ := get(t, "http://"+addr+"/readyz"); return code == 200 }, time.Minute, 50*time.Millisecond)

	v2 := l.PublishVariant(t, "heartbeat", "1.1.0")
	l.Mount(t, vol, "heartbeat@"+v2)
	require.Eventually(t, func() bool {
		_, metrics := get(t, "http://"+addr+"/metrics")
		return strings.Contains(metrics, v2)
	}, time.Minute, 50*time.Millisecond)
	code, _ := get(t, "http://"+addr+"/readyz")
	assert.Equal(t, 200, code)
	assert.NoFileExists(t, filepath.Join(rules, "010-custom_rules.yaml"))
	data, err := os.ReadFile(filepath.Join(rules, "010-heartbeat_rules.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "# variant 1.1.0")

	require.NoError(t, watch.Process.Signal(syscall.SIGTERM))
	require.NoError(t, watch.Wait(), "SIGTERM is a clean stop")
}

func TestAgentUsage(t *testing.T) {
	var out, errOut strings.Builder
	assert.Equal(t, 2, run(nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "falcops-agent install [flags]")
	assert.Equal(t, 2, run([]string{"bogus"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "bogus"`)
	assert.Equal(t, 2, run([]string{"install", "--no-such-flag"}, &out, &errOut))
	assert.Equal(t, 2, run([]string{"watch", "extra"}, &out, &errOut))
	out.Reset()
	assert.Equal(t, 0, run([]string{"--help"}, &out, &errOut))
	for _, flag := range []string{"-config", "-rules", "-work", "-falcoctl", "-plain-http", "-interval", "-timeout", "-addr"} {
		assert.Contains(t, out.String(), flag)
	}
	errOut.Reset()
	assert.Equal(t, 1, run([]string{"install", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, &out, &errOut))
	assert.Contains(t, errOut.String(), "missing.yaml")
}

// TestHeartbeatProcess: `falcops-agent heartbeat` runs its own binary with
// the marker argument on the clock, counts it in /metrics, and the marker
// process exits 0 at once (Falco's heartbeat rule fires on its exec).
func TestHeartbeatProcess(t *testing.T) {
	var out, errOut strings.Builder
	assert.Equal(t, 0, run([]string{agent.HeartbeatMarker}, &out, &errOut))
	assert.Empty(t, out.String()+errOut.String())

	hb := agentProcess(t, agent.Installer{Env: os.Environ()}, "heartbeat", "--heartbeat", "100ms", "--addr", "127.0.0.1:0")
	addr := serving(t, hb)
	require.Eventually(t, func() bool {
		_, metrics := get(t, "http://"+addr+"/metrics")
		m := regexp.MustCompile(`falcops_agent_heartbeats_total (\d+)`).FindStringSubmatch(metrics)
		return m != nil && m[1] != "0" && m[1] != "1"
	}, 30*time.Second, 50*time.Millisecond, "at least two beats")
	_, metrics := get(t, "http://"+addr+"/metrics")
	assert.Contains(t, metrics, "falcops_agent_heartbeat_failures_total 0")
	require.NoError(t, hb.Process.Signal(syscall.SIGTERM))
	require.NoError(t, hb.Wait())
}
