package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/oci"
)

type verifyOptions struct {
	key                  string
	identity, identityRE string
	issuer, issuerRE     string
	trustedRoot          string
	transport            transportFlags
}

func newVerifyCmd() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify REF (--key FILE | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] ISSUER --trusted-root FILE)",
		Short: "Verify an artifact's cosign signature, bound to its digest, repository, name and version",
		Long: `Verify that the artifact REF (host/repo:tag or host/repo@sha256:...) carries a
cosign signature made with the private key of --key (or, keyless, by the
certificate identity and issuer, against a Sigstore trusted root file), AND
that the signed payload names exactly this artifact: its digest, its
repository path, and the name and version of its config (which a tag X.Y.Z
must equal, or X and X.Y contain). falcoctl checks none of these claims: a
signature copied from another artifact or repository passes falcoctl, not
falcops. Verification is offline: no transparency log for keys, no TUF.

Exit codes: 0 verified, 1 not verified (the message says which check
failed), 2 usage or registry errors.`,
		Example: `  falcops verify registry.example.com/falco/heartbeat:2 --key cosign.pub
  falcops verify 127.0.0.1:5000/falcops/heartbeat:2.0.0 --key .falcops/cosign.pub --plain-http
  falcops verify ghcr.io/acme/rules/falco-rules:5 --certificate-identity-regexp 'https://github.com/acme/rules/.*' \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com --trusted-root trusted_root.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "public key: cosign.pub file, env://VAR or KMS URI")
	f.StringVar(&o.identity, "certificate-identity", "", "keyless: the signer identity (email or URI) the certificate must name")
	f.StringVar(&o.identityRE, "certificate-identity-regexp", "", "keyless: a regular expression the whole signer identity must match")
	f.StringVar(&o.issuer, "certificate-oidc-issuer", "", "keyless: the OIDC issuer the certificate must name")
	f.StringVar(&o.issuerRE, "certificate-oidc-issuer-regexp", "", "keyless: a regular expression the whole OIDC issuer must match")
	f.StringVar(&o.trustedRoot, "trusted-root", "", "keyless: Sigstore trusted_root.json with the certificate authorities and transparency logs to trust")
	o.transport.register(cmd)
	return cmd
}

func (o *verifyOptions) run(cmd *cobra.Command, ref string) error {
	keyless := o.identity != "" || o.identityRE != "" || o.issuer != "" || o.issuerRE != "" || o.trustedRoot != ""
	switch {
	case o.key == "" && !keyless:
		return usageError("--key, or a keyless identity (--certificate-identity[-regexp], --certificate-oidc-issuer[-regexp], --trusted-root), is required")
	case o.key != "" && keyless:
		return usageError("--key and a keyless identity exclude each other")
	}
	c, err := o.transport.client()
	if err != nil {
		return err
	}
	opts := oci.VerifyOptions{KeyRef: o.key, CertIdentity: o.identity, CertIdentityRegexp: o.identityRE,
		CertOIDCIssuer: o.issuer, CertOIDCIssuerRegexp: o.issuerRE, TrustedRootFile: o.trustedRoot}
	var v oci.Verified
	err = o.transport.within(cmd.Context(), func(ctx context.Context) error {
		v, err = c.Verify(ctx, ref, opts)
		return err
	})
	switch {
	case errors.Is(err, oci.ErrSignature), errors.Is(err, oci.ErrNotFound):
		return badInput(fmt.Errorf("%s: not verified: %w", ref, err))
	case err != nil:
		return err
	}
	who := o.key
	if keyless {
		who = "the certificate identity"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: verified %s %s %s (signature by %s; digest, repository, name and version checked)\n", ref, v.Name, v.Version, v.Digest, who)
	return nil
}
