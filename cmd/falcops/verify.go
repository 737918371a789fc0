package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/oci"
)

func newVerifyCmd() *cobra.Command {
	var key string
	var transport transportFlags
	cmd := &cobra.Command{
		Use:   "verify REF --key FILE",
		Short: "Verify an artifact's cosign signature and that it was signed for this digest",
		Long: `Verify that the artifact REF (host/repo:tag or host/repo@sha256:...) carries a
cosign signature made with the private key of --key, AND that the signed
payload names exactly the artifact's digest. falcoctl does not check the
latter: a signature copied from another artifact passes falcoctl, not falcops.
Verification is offline: no transparency log, no TUF.

Exit codes: 0 verified, 1 not verified (the message says why), 2 usage or
registry errors.`,
		Example: `  falcops verify registry.example.com/falco/heartbeat:1 --key cosign.pub
  falcops verify 127.0.0.1:5000/falcops/heartbeat:1.0.0 --key .falcops/cosign.pub --plain-http`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usageError("--key is required")
			}
			c, err := transport.client()
			if err != nil {
				return err
			}
			v, err := c.Verify(cmd.Context(), args[0], oci.VerifyOptions{KeyRef: key})
			switch {
			case errors.Is(err, oci.ErrSignature), errors.Is(err, oci.ErrNotFound):
				return badInput(fmt.Errorf("%s: not verified: %w", args[0], err))
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: verified %s %s %s (signature by %s; digest, repository, name and version checked)\n", args[0], v.Name, v.Version, v.Digest, key)
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "public key: cosign.pub file, env://VAR or KMS URI")
	transport.register(cmd)
	return cmd
}
