package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/gitrepo"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/publish"
)

// signingFlags choose how artifacts are signed and how the index tells
// falcoctl to verify them.
type signingFlags struct {
	key            string
	identityToken  string
	tlogUpload     bool
	indexKey       string
	identityRegexp string
	oidcIssuer     string
}

func (s *signingFlags) register(cmd *cobra.Command, signing bool) {
	f := cmd.Flags()
	if signing {
		f.StringVar(&s.key, "key", "", "signing key: cosign.key file (password in $COSIGN_PASSWORD), env://VAR or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://)")
		f.StringVar(&s.identityToken, "identity-token", "", "OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN when --key is empty)")
		f.BoolVar(&s.tlogUpload, "tlog-upload", false, "record signatures in the Rekor transparency log (always on for keyless)")
	}
	f.StringVar(&s.indexKey, "index-key", "", "public key reference written into index.yaml for falcoctl (path on the node, https:// or KMS URI; default: --key with .key replaced by .pub)")
	f.StringVar(&s.identityRegexp, "certificate-identity-regexp", "", "keyless: signer identity regexp written into index.yaml (e.g. https://github.com/acme/rules/)")
	f.StringVar(&s.oidcIssuer, "certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "keyless: OIDC issuer written into index.yaml")
}

// indexSignature is the signature block of the index entries.
func (s *signingFlags) indexSignature() *artifacts.CosignSignature {
	key := s.indexKey
	if key == "" && s.key != "" && !strings.Contains(s.key, "://") {
		key = strings.TrimSuffix(s.key, ".key") + ".pub"
		if abs, err := filepath.Abs(key); err == nil {
			key = abs
		}
	}
	if key != "" {
		return &artifacts.CosignSignature{Key: key, IgnoreTlog: !s.tlogUpload}
	}
	if s.identityRegexp != "" {
		return &artifacts.CosignSignature{CertificateOidcIssuer: s.oidcIssuer, CertificateIdentityRegexp: s.identityRegexp}
	}
	return nil
}

func (s *signingFlags) signOptions() (oci.SignOptions, error) {
	if s.key != "" {
		return oci.SignOptions{KeyRef: s.key, TlogUpload: s.tlogUpload}, nil
	}
	tok := s.identityToken
	if tok == "" {
		tok = os.Getenv("SIGSTORE_ID_TOKEN")
	}
	if tok == "" {
		return oci.SignOptions{}, usageError("no signing identity: give --key, or --identity-token / $SIGSTORE_ID_TOKEN for keyless signing")
	}
	return oci.SignOptions{IDToken: tok, TlogUpload: true}, nil
}

// parseRegistry reads --registry.
func parseRegistry(s string) (publish.Registry, error) {
	reg, err := publish.ParseRegistry(s)
	if err != nil {
		return reg, usageError("--registry: %v", err)
	}
	return reg, nil
}

type publishOptions struct {
	profiles      string
	registry      string
	transport     transportFlags
	indexFile     string
	allowUnsigned bool
	signing       signingFlags
}

func newPublishCmd() *cobra.Command {
	o := &publishOptions{}
	cmd := &cobra.Command{
		Use:   "publish [RULESET_DIR...] --registry HOST/PREFIX",
		Short: "Validate, package, sign and publish rulesets, then update index.yaml",
		Long: `Validate every ruleset first (any error publishes nothing), then for each
ruleset: package it, push it to HOST/PREFIX/<name> under its version and the
floating tags (X.Y, X, latest only when no higher release exists), and sign the
digest with cosign. A version is immutable: publishing the same content again
does nothing; different content under an existing version fails (exit 1).
index.yaml is written last, so it never points at something unsigned.

RULESET_DIR defaults to the repository root (all rulesets/*).`,
		Example: `  falcops publish --registry ghcr.io/acme/falco --key cosign.key
  falcops publish rulesets/heartbeat --registry 127.0.0.1:5000/falcops --key .falcops/cosign.key --plain-http
  SIGSTORE_ID_TOKEN=... falcops publish --registry ghcr.io/acme/falco --certificate-identity-regexp https://github.com/acme/rules/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{repoRoot()}
			}
			if !cmd.Flags().Changed("profiles") {
				// The profiles of the repository being published.
				o.profiles = filepath.Join(repoRootOf(args[0]), "profiles")
			}
			return o.transport.within(cmd.Context(), func(ctx context.Context) error { return o.run(ctx, cmd, args) })
		},
	}
	cmd.Flags().StringVar(&o.registry, "registry", "", "registry and repository prefix, HOST[:PORT][/PREFIX] (required)")
	o.transport.register(cmd)
	cmd.Flags().BoolVar(&o.allowUnsigned, "allow-unsigned-index", false, "write index entries without a signature block when keyless signing has no --certificate-identity-regexp (falcoctl then installs unverified)")
	cmd.Flags().StringVar(&o.profiles, "profiles", "profiles", "folder of FalcoProfile documents published as the signed asset artifact "+artifacts.ProfilesArtifact+" (skipped when missing; \"\" to skip)")
	cmd.Flags().StringVar(&o.indexFile, "index", "index.yaml", "falcoctl index to merge the published entries into (\"\" to skip)")
	o.signing.register(cmd, true)
	return cmd
}

func (o *publishOptions) run(ctx context.Context, cmd *cobra.Command, paths []string) error {
	if o.registry == "" {
		return usageError("--registry is required")
	}
	reg, err := parseRegistry(o.registry)
	if err != nil {
		return err
	}
	signOpts, err := o.signing.signOptions()
	if err != nil {
		return err
	}
	if o.indexFile != "" {
		// A broken index stops the release before anything is pushed.
		if _, err := publish.ReadIndexFile(o.indexFile); err != nil {
			return err
		}
		if err := checkSigned(cmd, o.signing.indexSignature(), o.allowUnsigned); err != nil {
			return err
		}
	}
	built, err := buildRulesets(cmd, paths)
	if err != nil {
		return err
	}
	var profiles map[string][]byte
	if o.profiles != "" {
		if profiles, err = publish.ReadProfiles(o.profiles); err != nil {
			return err
		}
	}
	if signOpts.KeyRef != "" {
		// Decrypt the key once, not once per ruleset.
		if signOpts.Signer, err = oci.LoadSigner(ctx, signOpts.KeyRef, signOpts.Password); err != nil {
			return fmt.Errorf("loading the signing key: %w", err)
		}
	}
	client, err := o.transport.client()
	if err != nil {
		return err
	}
	total := len(built)
	if profiles != nil {
		total++
	}
	opts := publish.Options{Client: client, Registry: reg, Sign: signOpts, IndexSignature: o.signing.indexSignature()}
	showProgress(&opts, cmd, total)
	_, entries, err := publish.Rulesets(ctx, built, opts)
	if err != nil {
		return err
	}
	if profiles != nil {
		source, revision, err := gitrepo.Origin(o.profiles)
		if err != nil {
			return err
		}
		_, e, err := publish.Profiles(ctx, profiles, source, revision, opts)
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	if o.indexFile == "" {
		return nil
	}
	if err := publish.MergeIndexFile(o.indexFile, entries); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "index %s: %d entries updated\n", o.indexFile, len(entries))
	return nil
}

// showProgress prints each release step (stderr) and result (stdout) as
// it happens.
func showProgress(opts *publish.Options, cmd *cobra.Command, total int) {
	p := newProgress(cmd.ErrOrStderr(), total)
	opts.Step, opts.Clock = p.step, time.Now
	opts.Progress = func(r publish.Result) { p.result(cmd.OutOrStdout(), r) }
}

// errUnsignedIndex: an index entry without a signature block makes
// falcoctl install without verifying.
var errUnsignedIndex = errors.New("index entries would carry no signature block, and falcoctl installs such artifacts without verifying them: " +
	"give --index-key (or --key), or --certificate-identity-regexp for keyless signatures")

// checkSigned refuses to write unsigned index entries unless allowed, and
// then says what falcoctl will do.
func checkSigned(cmd *cobra.Command, sig *artifacts.CosignSignature, allowUnsigned bool) error {
	if sig != nil {
		return nil
	}
	if !allowUnsigned {
		return badInput(fmt.Errorf("%w (or allow it explicitly)", errUnsignedIndex))
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "falcops: warning: index entries without a signature block: falcoctl installs these artifacts without verifying any signature")
	return nil
}
