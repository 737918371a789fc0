package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/upstream"
)

// DefaultUpstream is where falcosecurity publishes its rulesets.
const defaultUpstream = "ghcr.io/falcosecurity/rules"

// trustFlags are the keyless identity an upstream artifact must be signed
// with; the defaults are falcosecurity/rules' release workflow.
type trustFlags struct {
	trustedRoot, identity, identityRE, issuer string
	tuf                                       bool
}

func (t *trustFlags) register(cmd *cobra.Command, identityDefault string) {
	f := cmd.Flags()
	f.StringVar(&t.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json to verify upstream's keyless signatures against, offline (this or --trusted-root-tuf is required)")
	f.BoolVar(&t.tuf, "trusted-root-tuf", false, "fetch the public Sigstore trusted root through TUF instead of --trusted-root (online)")
	f.StringVar(&t.identity, "certificate-identity", "", "the exact signer identity (default: "+identityDefault+")")
	f.StringVar(&t.identityRE, "certificate-identity-regexp", "", "a regular expression the whole signer identity must match (instead of --certificate-identity)")
	f.StringVar(&t.issuer, "certificate-oidc-issuer", upstream.GitHubIssuer, "the OIDC issuer the certificate must name")
}

func (t *trustFlags) trust(identity string) (upstream.Trust, error) {
	switch {
	case t.trustedRoot == "" && !t.tuf:
		return upstream.Trust{}, usageError("--trusted-root (or --trusted-root-tuf) is required: upstream's keyless signatures are verified against it")
	case t.trustedRoot != "" && t.tuf:
		return upstream.Trust{}, usageError("--trusted-root and --trusted-root-tuf exclude each other")
	}
	if t.identity != "" && t.identityRE != "" {
		return upstream.Trust{}, usageError("--certificate-identity and --certificate-identity-regexp exclude each other")
	}
	tr := upstream.Trust{TrustedRoot: t.trustedRoot, TUF: t.tuf, Identity: t.identity, IdentityRegexp: t.identityRE, Issuer: t.issuer}
	if tr.Identity == "" && tr.IdentityRegexp == "" {
		tr.Identity = identity
	}
	return tr, nil
}

type vendorOptions struct {
	registry, out string
	trust         trustFlags
	transport     transportFlags
}

func newVendorCmd() *cobra.Command {
	o := &vendorOptions{}
	cmd := &cobra.Command{
		Use:   "vendor NAME VERSION [--registry HOST/PATH] [--out DIR] --trusted-root FILE",
		Short: "Write a signed upstream ruleset release into the repository, byte for byte, with its provenance",
		Long: `Pull the upstream ruleset release NAME:VERSION (default from
ghcr.io/falcosecurity/rules/NAME), verify its keyless signature offline
against --trusted-root for the release workflow's identity (by default
exactly https://github.com/falcosecurity/rules/.github/workflows/release.yaml@refs/tags/NAME-VERSION
and issuer https://token.actions.githubusercontent.com), and write its rules
files unchanged into --out (default rulesets/NAME-MAJOR, one folder per
major line), with a ruleset.yaml that records the reference, the digest, the
signer and each file's digest. Commit the result: it is an ordinary pull
request that falcops gate diffs semantically. validate fails when a vendored
file no longer matches its recorded digest. Nothing is written when the
signature does not verify. Running it again for the same release changes
nothing.

Exit codes: 0 vendored (or already in place), 1 not verified or not a
rulesfile artifact, 2 usage or registry errors.`,
		Example: `  falcops vendor falco-rules 5.1.0 --trusted-root trusted_root.json
  falcops vendor falco-incubating-rules 6.0.1 --trusted-root trusted_root.json --out rulesets/falco-incubating-rules-6`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	cmd.Flags().StringVar(&o.registry, "registry", defaultUpstream, "the upstream registry and path; the repository is REGISTRY/NAME")
	cmd.Flags().StringVar(&o.out, "out", "", "the ruleset folder to write (default: rulesets/NAME-MAJOR of the repository)")
	o.trust.register(cmd, "falcosecurity/rules' release workflow for tag NAME-VERSION")
	o.transport.register(cmd)
	return cmd
}

func (o *vendorOptions) run(cmd *cobra.Command, name, version string) error {
	v, err := semver.StrictNewVersion(version)
	if err != nil || v.String() != version {
		return usageError("VERSION %q is not a release X.Y.Z", version)
	}
	trust, err := o.trust.trust(upstream.ReleaseIdentity(name, version))
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = filepath.Join(repoRoot(), "rulesets", fmt.Sprintf("%s-%d", name, v.Major()))
	}
	c, err := o.transport.client()
	if err != nil {
		return err
	}
	var res *upstream.Vendored
	err = o.transport.within(cmd.Context(), func(ctx context.Context) error {
		res, err = upstream.Vendor(ctx, upstream.VendorOptions{Client: c, Repository: strings.TrimSuffix(o.registry, "/") + "/" + name,
			Version: version, Trust: trust, Dir: out})
		return err
	})
	if errors.Is(err, oci.ErrSignature) || errors.Is(err, artifacts.ErrUnsafePath) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	if res.Unchanged {
		fmt.Fprintf(cmd.OutOrStdout(), "%s %s: already vendored in %s (%s)\n", name, version, out, res.Manifest.Upstream.Digest)
		return nil
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s %s: vendored %s into %s (%s, signed by %s)\n", name, version, strings.Join(res.Manifest.Files, ", "), out,
		res.Manifest.Upstream.Digest, res.Manifest.Upstream.Signer.Identity)
	return nil
}

type mirrorOptions struct {
	tags      []string
	since     string
	key       string
	index     string
	indexKey  string
	trust     trustFlags
	transport transportFlags
}

func newMirrorCmd() *cobra.Command {
	o := &mirrorOptions{}
	cmd := &cobra.Command{
		Use:   "mirror SRC DST --key FILE --trusted-root FILE [--tags X.Y.Z,... | --since X.Y.Z] [--index FILE]",
		Short: "Copy signed upstream releases into a private registry, verified first and re-signed with the landscape key",
		Long: `Copy the releases of the repository SRC (host/path, e.g.
ghcr.io/falcosecurity/rules/falco-rules) into DST (host/path in the
landscape's registry): each release's signature is verified at SRC first,
keyless and offline against --trusted-root (by default for falcosecurity/rules'
release workflow, any tag of the ruleset); then the manifest and its blobs
(digests preserved), the legacy signature tag sha256-<hex>.sig (falcoctl
0.11 reads only that), the cosign v3 bundle fallback index sha256-<hex>
where SRC has one, a signature with --key (so shoots trust one key) and
last the floating tags X.Y, X and latest. A release whose signature does not
verify is not copied at all. An X.Y.Z that DST holds with other content is
never overwritten. Every step looks before it writes: running it again
writes nothing, and after an interruption it finishes what is missing.
--index writes (or merges) the falcoctl index entry for DST.

Exit codes: 0 mirrored, 1 a signature did not verify or DST holds other
content, 2 usage or registry errors.`,
		Example: `  falcops mirror ghcr.io/falcosecurity/rules/falco-rules registry.internal/falco/falco-rules \
    --since 4.0.0 --key cosign.key --trusted-root trusted_root.json --index index.yaml`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.tags, "tags", nil, "the releases X.Y.Z to mirror (default: every X.Y.Z tag of SRC)")
	f.StringVar(&o.since, "since", "", "mirror the releases at or above X.Y.Z only")
	f.StringVar(&o.key, "key", "", "the landscape's cosign private key (file, env://VAR or KMS URI; password from $COSIGN_PASSWORD) (required)")
	f.StringVar(&o.index, "index", "", "falcoctl index.yaml to write the mirror's entry into (merged when it exists)")
	f.StringVar(&o.indexKey, "index-key", "", "with --index: the path falcoctl reads the landscape's public key from, written into the entry (required with --index)")
	o.trust.register(cmd, "falcosecurity/rules' release workflow, any tag of the ruleset")
	o.transport.register(cmd)
	return cmd
}

func (o *mirrorOptions) run(cmd *cobra.Command, src, dst string) error {
	if len(o.tags) > 0 && o.since != "" {
		return usageError("--tags and --since exclude each other")
	}
	if o.index != "" && o.indexKey == "" {
		return usageError("--index needs --index-key: the path of the landscape's public key where falcoctl runs")
	}
	if o.key == "" {
		return usageError("--key is required: the mirror signs every copy with the landscape key")
	}
	name := path.Base(src)
	trust, err := o.trust.trust("")
	if err != nil {
		return err
	}
	if trust.Identity == "" && trust.IdentityRegexp == "" {
		trust.IdentityRegexp = upstream.ReleaseIdentityRegexp(name)
	}
	c, err := o.transport.client()
	if err != nil {
		return err
	}
	var results []upstream.Mirrored
	err = o.transport.within(cmd.Context(), func(ctx context.Context) error {
		signer, err := oci.LoadSigner(ctx, o.key, nil)
		if err != nil {
			return fmt.Errorf("loading the signing key: %w", err)
		}
		results, err = upstream.Mirror(ctx, upstream.MirrorOptions{Client: c, Source: src, Destination: dst, Tags: o.tags, Since: o.since,
			Trust: trust, Signer: signer, Progress: func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), line) }})
		if err != nil {
			return err
		}
		if o.index == "" || len(results) == 0 {
			return nil
		}
		return writeIndexEntry(o.index, upstream.IndexEntry(results[0].Name, dst, o.indexKey))
	})
	if errors.Is(err, oci.ErrSignature) || errors.Is(err, upstream.ErrOverwrite) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	writes := 0
	for _, r := range results {
		if r.Writes() {
			writes++
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s -> %s: %d releases, %d changed, %d already in place\n", src, dst, len(results), writes, len(results)-writes)
	return nil
}

// writeIndexEntry merges e into the index file at p (created if absent).
func writeIndexEntry(p string, e artifacts.IndexEntry) error {
	var old artifacts.Index
	if data, err := os.ReadFile(p); err == nil {
		if old, err = artifacts.ParseIndex(data); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	merged, err := artifacts.Merge(old, artifacts.Index{e})
	if err != nil {
		return err
	}
	return os.WriteFile(p, merged.Marshal(), 0o644)
}
