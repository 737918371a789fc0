package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runController runs the controller's main as a process with args.
func runController(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &ee)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestMainErrors: a bad flag or a missing kubeconfig is one clear line,
// not a usage dump or a stack trace; --version prints the build.
func TestMainErrors(t *testing.T) {
	code, _, stderr := runController(t, nil, "--bogus")
	assert.Equal(t, 2, code)
	assert.Equal(t, "falcops-controller: unknown flag: --bogus (see --help)\n", stderr)

	code, _, stderr = runController(t, []string{"KUBECONFIG=/nonexistent", "KUBERNETES_SERVICE_HOST=", "HOME=" + t.TempDir()}, "--metrics-bind-address=0", "--health-probe-bind-address=0")
	assert.Equal(t, 1, code)
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(stderr), "\n")+1, "one line: %q", stderr)
	assert.Contains(t, stderr, "falcops-controller:")
	assert.NotContains(t, stderr, "goroutine")

	code, stdout, _ := runController(t, nil, "--version")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "falcops-controller ")
	assert.Contains(t, stdout, "media types:")
}
