// Command falcops validates, packages, publishes and rolls out Falco rules.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/publish"
	"github.com/falcops/falcops/version"
)

// Exit codes of the CLI contract.
const (
	exitOK    = 0
	exitInput = 1 // the input has errors: findings, failed gate, failed verification
	exitUsage = 2 // usage or environment error
)

// inputError marks an error about the input (exit 1); every other error
// exits 2.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// badInput makes err an input error (exit 1).
func badInput(err error) error { return &inputError{err} }

// usageError is a usage or environment error (exit 2, the default).
func usageError(format string, args ...any) error { return fmt.Errorf(format, args...) }

// errFindings reports that the input had problems already printed.
var errFindings = badInput(errors.New(""))

// inputSentinels are the library errors that say the input is wrong.
var inputSentinels = []error{publish.ErrInvalid, oci.ErrImmutable, lifecycle.ErrInvalid, lifecycle.ErrRefused}

// exitCode maps an error to the CLI contract: 1 for input errors, else 2.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ie *inputError
	if errors.As(err, &ie) {
		return exitInput
	}
	for _, s := range inputSentinels {
		if errors.Is(err, s) {
			return exitInput
		}
	}
	return exitUsage
}

func main() {
	// The commands' controller-runtime clients (fleet, dev) report
	// through their errors; without a logger it warns after 30 s.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "falcops:", hinted(msg))
	}
	return exitCode(err)
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
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return anchorDefaults(cmd) }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newRenderCmd(), newValidateCmd(), newPackageCmd(), newPublishCmd(), newVerifyCmd(), newIndexCmd(), newRegistryCmd(), newRunCmd(), newDevCmd(),
		newDiffCmd(), newTestCmd(), newGateCmd(), newProfileCmd(), newAdmissionCmd(), newVendorCmd(), newMirrorCmd(), newFleetCmd(), newVersionCmd())
	root.Version = version.Get().Version
	root.SetVersionTemplate(version.Report("falcops"))
	return root
}
