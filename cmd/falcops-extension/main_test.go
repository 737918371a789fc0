package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const runEnv = "FALCOPS_TEST_RUN_EXTENSION"

func TestMain(m *testing.M) {
	if os.Getenv(runEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func extensionCmd(args ...string) (string, int) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runEnv+"=1", "KUBECONFIG=/nonexistent")
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}

// TestUsage: --help lists every flag, a bad flag or missing inputs is one
// clear line with exit 2 or 1, --version prints the version.
func TestUsage(t *testing.T) {
	out, code := extensionCmd("--help")
	assert.Equal(t, 0, code)
	for _, f := range []string{"--config", "--profiles", "--plain-http", "--metrics-bind-address", "--health-probe-bind-address",
		"--leader-elect", "--namespace", "--concurrency", "--health-interval", "--registry-timeout", "--version"} {
		assert.Contains(t, out, f)
	}
	out, code = extensionCmd("--no-such-flag")
	assert.Equal(t, 2, code)
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(out), "\n")+1, out)
	out, code = extensionCmd()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "--config and --profiles are required")
	out, code = extensionCmd("--config", "../../config/extension/configuration.yaml", "--profiles", "127.0.0.1:1/falcops/falco-profiles:latest")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "no kubeconfig")
	out, code = extensionCmd("--version")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "falcops-extension")
}
