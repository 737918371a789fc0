package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/oci"
)

// defaultTimeout bounds a command's registry work: publishing fifty
// rulesets to a remote registry takes well under a minute.
const defaultTimeout = 5 * time.Minute

// transportFlags choose how commands talk to a registry.
type transportFlags struct {
	plainHTTP           bool
	allowInsecureRemote bool
	timeout             time.Duration
}

func (t *transportFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&t.plainHTTP, "plain-http", false, "talk HTTP to the registry (loopback registries only, unless --allow-insecure-remote)")
	cmd.Flags().BoolVar(&t.allowInsecureRemote, "allow-insecure-remote", false, "allow --plain-http to a registry that is not on loopback (anyone on the path can change what is pushed and pulled)")
	cmd.Flags().DurationVar(&t.timeout, "timeout", defaultTimeout, fmt.Sprintf("deadline for all registry work of the command (each request also gets %s for its headers and %s for any pause in its body); 0 for none", oci.DefaultHeaderTimeout, oci.DefaultIdleTimeout))
}

// client is the registry client the flags ask for.
func (t *transportFlags) client() (*oci.Client, error) {
	return oci.New(oci.Options{PlainHTTP: t.plainHTTP, AllowInsecureRemote: t.allowInsecureRemote})
}

// within runs f under the --timeout deadline. Running out of time is an
// environment error (exit 2) that names the flag, whatever f made of it.
func (t *transportFlags) within(ctx context.Context, f func(ctx context.Context) error) error {
	if t.timeout <= 0 {
		return f(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	err := f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the registry work did not finish within --timeout %s: %w (%s)", t.timeout, context.DeadlineExceeded, err.Error())
	}
	return err
}
