package clitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falcops/falcops/internal/sharedtest"
)

// Timeout bounds each [Run]; the test's own deadline applies as well.
const Timeout = 2 * time.Minute

// BinDir is the directory hack/tools.sh installs into:
// ${FALCOPS_CACHE:-$HOME/.cache/falcops}/bin.
func BinDir() string {
	cache := os.Getenv("FALCOPS_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		cache = filepath.Join(home, ".cache", "falcops")
	}
	return filepath.Join(cache, "bin")
}

// Tool returns the path of the tool name (falcoctl, cosign, oras, crane) built
// by hack/tools.sh. If it is missing, the test is skipped with a hint, or
// fails when FALCOPS_REQUIRE_TOOLS=1.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(BinDir(), name)
	info, err := os.Stat(path)
	if err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0 {
		return path
	}
	sharedtest.SkipOrFail(t, sharedtest.RequireToolsEnv, "%s not found in %s: run `hack/tools.sh %s` from the repository root", name, BinDir(), name)
	return ""
}

// Run runs bin with args in dir (the current directory if empty) and returns
// its output. The environment is clean: PATH is kept, HOME and TMPDIR are
// fresh temporary directories, HTTP_PROXY and HTTPS_PROXY (both spellings)
// point at a loopback port that drops every connection, so egress fails at
// once (Go clients never proxy loopback addresses), NO_PROXY is unset and
// NO_COLOR=1 keeps the output plain. env entries ("KEY=value") are added last
// and win over these defaults (os/exec keeps the last value of a key).
//
// The command is killed after [Timeout] or at the test's deadline. The
// command line and its output are logged, so they show up when the test fails.
func Run(t testing.TB, bin string, env []string, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			var cancelDeadline context.CancelFunc
			ctx, cancelDeadline = context.WithDeadline(ctx, deadline.Add(-5*time.Second))
			defer cancelDeadline()
		}
	}

	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	guard := newEgressGuard(t)
	cmd.Env = append(baseEnv(t, guard.url()), env...)
	cmd.WaitDelay = 5 * time.Second // children holding the pipes cannot hang the test
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf

	start := time.Now() //nolint:forbidigo // wall-clock duration of a real process, for the log
	err = cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%s: %w (%w)", filepath.Base(bin), ctx.Err(), err)
	}
	attempts := guard.close()
	stdout, stderr = outBuf.String(), errBuf.String()
	t.Logf("$ %s %s  (%s, %s)", filepath.Base(bin), strings.Join(args, " "), time.Since(start).Round(time.Millisecond), exitStatus(err))
	if attempts > 0 {
		t.Logf("the egress guard refused %d connection(s): the command tried to reach a non-loopback address", attempts)
	}
	if stdout != "" {
		t.Logf("stdout:\n%s", indent(stdout))
	}
	if stderr != "" {
		t.Logf("stderr:\n%s", indent(stderr))
	}
	return stdout, stderr, err
}

// Command prepares bin for a long-running process, such as
// `falcoctl artifact follow`, with the same clean environment as [Run]. The
// caller starts and stops it; at the end of the test a still-running process
// is killed, and the number of connections the egress guard refused is logged.
func Command(t testing.TB, bin string, env []string, dir string, args ...string) *exec.Cmd {
	t.Helper()
	guard := newEgressGuard(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(t, guard.url()), env...)
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if n := guard.close(); n > 0 {
			t.Logf("%s: the egress guard refused %d connection(s): the command tried to reach a non-loopback address", filepath.Base(bin), n)
		}
	})
	return cmd
}

// baseEnv is the clean environment described at [Run], with the proxy
// variables pointing at proxy.
func baseEnv(t testing.TB, proxy string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"TMPDIR=" + t.TempDir(),
		"HTTP_PROXY=" + proxy,
		"HTTPS_PROXY=" + proxy,
		"http_proxy=" + proxy,
		"https_proxy=" + proxy,
		"NO_COLOR=1",
	}
}

// egressGuard is the "proxy" of a [Run]: a loopback listener that closes
// every connection at once and counts them. It is held open for the whole run
// so that no other server can take its port.
type egressGuard struct {
	l        net.Listener
	attempts atomic.Int64
	done     chan struct{}
}

func newEgressGuard(t testing.TB) *egressGuard {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the egress guard: %v", err)
	}
	g := &egressGuard{l: l, done: make(chan struct{})}
	go func() {
		defer close(g.done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			g.attempts.Add(1)
			_ = c.Close()
		}
	}()
	return g
}

func (g *egressGuard) url() string { return "http://" + g.l.Addr().String() }

// close stops the guard and returns how many connections it refused.
func (g *egressGuard) close() int64 {
	_ = g.l.Close()
	<-g.done
	return g.attempts.Load()
}

func exitStatus(err error) string {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return "exit 0"
	case errors.As(err, &exitErr):
		return fmt.Sprintf("exit %d", exitErr.ExitCode())
	default:
		return err.Error()
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
