// Command falcops validates, packages, publishes and rolls out Falco rules.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes of the CLI contract.
const (
	exitOK    = 0
	exitInput = 1 // the input has errors: findings, failed gate, failed verification
	exitUsage = 2 // usage or environment error
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

// errFindings reports that the input had problems already printed.
var errFindings = &exitError{exitInput, errors.New("")}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err.Error() != "" {
			fmt.Fprintln(stderr, "falcops:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "falcops:", err)
	return exitUsage
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "falcops",
		Short: "GitOps for Falco rules: validate, package, sign, publish and roll out",
		Long: `falcops keeps Falco rules, exceptions and Falco profiles in Git, validates them
without a Falco binary, packages them as signed falcoctl artifacts, and rolls
them out to Gardener shoots.

Exit codes: 0 success, 1 the input has errors (findings, failed gate,
failed verification), 2 usage or environment error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{exitUsage, fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(newValidateCmd(), newPackageCmd(), newPublishCmd(), newVerifyCmd(), newIndexCmd(), newRegistryCmd(), newRunCmd(),
		newDiffCmd(), newTestCmd(), newGateCmd(), newProfileCmd())
	return root
}
