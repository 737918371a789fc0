package main

import (
	"os"
	"testing"
)

// cliEnv makes the test binary run the CLI instead of the tests, so a test
// can run `falcops` as a process of its own (and kill it).
const cliEnv = "FALCOPS_TEST_RUN_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
