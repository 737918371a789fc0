package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// cliEnv makes the test binary run the CLI instead of the tests, so a test
// can run `falcops` as a process of its own (and kill it).
const cliEnv = "FALCOPS_TEST_RUN_CLI"

// peakRSSEnv names a file the CLI process writes its peak resident set
// (VmHWM) to when it ends. The child's rusage cannot tell: Go starts
// children with vfork, so their maxrss starts at the parent's.
const peakRSSEnv = "FALCOPS_TEST_PEAK_RSS_FILE"

func TestMain(m *testing.M) {
	// controller-runtime's clients log nothing, as in main.
	ctrllog.SetLogger(logr.Discard())
	if os.Getenv(cliEnv) == "1" {
		code := run(os.Args[1:], os.Stdout, os.Stderr)
		if f := os.Getenv(peakRSSEnv); f != "" {
			writePeakRSS(f)
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// writePeakRSS copies the VmHWM line of /proc/self/status to file.
func writePeakRSS(file string) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("VmHWM:")) {
			_ = os.WriteFile(file, line, 0o600)
		}
	}
}
