package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/clitest"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// falcopsProcess starts falcops (this test binary as the CLI) with args.
func falcopsProcess(t *testing.T, out *syncBuffer, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), want) }, time.Minute, 50*time.Millisecond,
		"output lacks %q:\n%s", want, out)
}

// TestRunStopsCleanlyOnInterrupt: Ctrl-C (SIGINT) ends `falcops run` with
// exit 0 and a line that says it stopped.
func TestRunStopsCleanlyOnInterrupt(t *testing.T) {
	var out syncBuffer
	cmd := falcopsProcess(t, &out, "run", "--addr", "127.0.0.1:0", "--dir", filepath.Join(t.TempDir(), ".falcops"), "--repo", repoWith(t, "heartbeat"))
	waitOutput(t, &out, "serving until interrupted")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	require.NoError(t, err, "exit status after Ctrl-C:\n%s", out.String())
	assert.True(t, strings.HasSuffix(out.String(), "stopped\n"), out.String())
}

// TestRunOnceCommandWorksAfterExit: `run --once` says the registry stops
// and prints how to serve the same content; with that, the printed falcoctl
// command works after run has exited.
func TestRunOnceCommandWorksAfterExit(t *testing.T) {
	falcoctl := clitest.Tool(t, "falcoctl")
	dir := filepath.Join(t.TempDir(), ".falcops")
	ln := freePort(t)
	code, out, errOut := runCLI(t, "run", "--once", "--addr", ln, "--dir", dir, "--repo", repoWith(t, "heartbeat"))
	require.Equal(t, exitOK, code, out+errOut)
	serve := regexp.MustCompile(`(?m)^  falcops (registry serve .*)$`).FindStringSubmatch(out)
	require.NotNil(t, serve, out)
	var served syncBuffer
	falcopsProcess(t, &served, strings.Fields(serve[1])...)
	waitOutput(t, &served, "registry listening")
	env, args := printedInstall(t, out)
	stdout, stderr, err := clitest.Run(t, falcoctl, env, "", args...)
	require.NoError(t, err, "%s%s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "Signature successfully verified")
}

// freePort is a 127.0.0.1 address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestRunRepairsAHalfKeyPair: a deleted key or password file is replaced
// by a new pair, never a state that cannot sign.
func TestRunRepairsAHalfKeyPair(t *testing.T) {
	repo := repoWith(t, "heartbeat")
	for _, remove := range []string{"cosign.key", "cosign.password", "cosign.pub"} {
		t.Run(remove, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), ".falcops")
			code, out, errOut := runCLI(t, "run", "--once", "--addr", "127.0.0.1:0", "--dir", dir, "--repo", repo)
			require.Equal(t, exitOK, code, out+errOut)
			require.NoError(t, os.Remove(filepath.Join(dir, remove)))
			code, out, errOut = runCLI(t, "run", "--once", "--addr", "127.0.0.1:0", "--dir", dir, "--repo", repo)
			require.Equal(t, exitOK, code, out+errOut)
			assert.Contains(t, out, "created signing key")
			for _, f := range []string{"cosign.key", "cosign.pub", "cosign.password"} {
				assert.FileExists(t, filepath.Join(dir, f))
			}
		})
	}
}
