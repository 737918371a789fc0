package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
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

// registryRef splits HOST/PREFIX.
type registryRef struct{ host, prefix string }

func parseRegistry(s string) (registryRef, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://"), "/")
	host, prefix, _ := strings.Cut(s, "/")
	if host == "" {
		return registryRef{}, usageError("--registry %q: want HOST[:PORT][/PREFIX]", s)
	}
	return registryRef{host, prefix}, nil
}

func (r registryRef) repository(name string) string {
	if r.prefix == "" {
		return name
	}
	return r.prefix + "/" + name
}

func (r registryRef) repo(name string) string { return r.host + "/" + r.repository(name) }

type publishOptions struct {
	profiles  string
	registry  string
	plainHTTP bool
	indexFile string
	signing   signingFlags
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
				args = []string{"."}
			}
			return o.run(cmd.Context(), cmd, args)
		},
	}
	cmd.Flags().StringVar(&o.registry, "registry", "", "registry and repository prefix, HOST[:PORT][/PREFIX] (required)")
	cmd.Flags().BoolVar(&o.plainHTTP, "plain-http", false, "talk HTTP to the registry (loopback registries)")
	cmd.Flags().StringVar(&o.profiles, "profiles", "profiles", "folder of FalcoProfile documents published as the signed asset artifact "+ProfilesArtifact+" (skipped when missing; \"\" to skip)")
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
	built, err := buildRulesets(cmd, paths)
	if err != nil {
		return err
	}
	var profiles map[string][]byte
	if o.profiles != "" {
		if profiles, err = profileFiles(o.profiles); err != nil {
			return err
		}
	}
	if signOpts.KeyRef != "" {
		// Decrypt the key once, not once per ruleset.
		if signOpts.Signer, err = oci.LoadSigner(ctx, signOpts.KeyRef, signOpts.Password); err != nil {
			return &exitError{exitUsage, fmt.Errorf("loading the signing key: %w", err)}
		}
	}
	client, err := oci.New(oci.Options{PlainHTTP: o.plainHTTP})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	var entries artifacts.Index
	for _, b := range built {
		if err := publishOne(ctx, cmd.OutOrStdout(), client, reg, b, signOpts); err != nil {
			return err
		}
		entries = append(entries, artifacts.EntryFor(b.dir.Manifest, reg.host, reg.repository(b.dir.Manifest.Name), o.signing.indexSignature()))
	}
	if profiles != nil {
		source, revision, err := gitOrigin(o.profiles)
		if err != nil {
			return &exitError{exitUsage, err}
		}
		e, err := publishProfiles(ctx, cmd.OutOrStdout(), client, reg, profiles, source, revision, signOpts)
		if err != nil {
			return err
		}
		if sig := o.signing.indexSignature(); sig != nil {
			e.Signature = &artifacts.Signature{Cosign: sig}
		}
		entries = append(entries, e)
	}
	if o.indexFile == "" {
		return nil
	}
	if err := mergeIndexFile(o.indexFile, entries); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "index %s: %d entries updated\n", o.indexFile, len(entries))
	return nil
}

// publishOne pushes and signs one ruleset. Content already published under
// its version (same config and layer, whatever the commit annotations say)
// is left alone and only signed if its signature is missing.
func publishOne(ctx context.Context, out io.Writer, c *oci.Client, reg registryRef, b builtRuleset, signOpts oci.SignOptions) error {
	m := b.dir.Manifest
	repo := reg.repo(m.Name)
	res, err := c.Publish(ctx, repo, b.artifact, m.Version)
	if errors.Is(err, oci.ErrImmutable) {
		same, d, cerr := sameContent(ctx, c, repo+":"+m.Version, b.artifact)
		if cerr != nil {
			return &exitError{exitUsage, cerr}
		}
		if !same {
			return &exitError{exitInput, fmt.Errorf("%s %s: %w: change the version in %s", m.Name, m.Version, err, b.dir.ManifestPath)}
		}
		res, err = oci.Result{Digest: d, Unchanged: true}, nil
	}
	if err != nil {
		return &exitError{exitUsage, fmt.Errorf("%s %s: %w", m.Name, m.Version, err)}
	}
	ref := repo + "@" + res.Digest.String()
	if res.Unchanged {
		signed, err := hasSignature(ctx, c, repo, res.Digest)
		if err != nil {
			return &exitError{exitUsage, fmt.Errorf("%s %s: %w", m.Name, m.Version, err)}
		}
		if signed {
			fmt.Fprintf(out, "%s %s: unchanged (%s)\n", m.Name, m.Version, res.Digest)
			return nil
		}
	}
	if err := c.Sign(ctx, ref, signOpts); err != nil {
		return &exitError{exitUsage, fmt.Errorf("signing %s: %w", ref, err)}
	}
	if res.Unchanged {
		fmt.Fprintf(out, "%s %s: unchanged (%s), signature added\n", m.Name, m.Version, res.Digest)
		return nil
	}
	fmt.Fprintf(out, "%s %s: published %s as %s, signed\n", m.Name, m.Version, res.Digest, strings.Join(res.Tags, ", "))
	return nil
}

// sameContent reports whether the manifest at ref has the artifact's config
// and layer: then only annotations such as the commit differ.
func sameContent(ctx context.Context, c *oci.Client, ref string, a *artifacts.Artifact) (bool, digest.Digest, error) {
	desc, data, err := c.FetchManifest(ctx, ref)
	if err != nil {
		return false, "", err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return false, "", fmt.Errorf("%s: %w", ref, err)
	}
	same := m.Config.Digest == a.ConfigDescriptor.Digest && len(m.Layers) == 1 && m.Layers[0].Digest == a.LayerDescriptor.Digest
	return same, desc.Digest, nil
}

// hasSignature reports whether a legacy cosign signature is stored for the
// digest (one HEAD request on the sha256-<hex>.sig tag).
func hasSignature(ctx context.Context, c *oci.Client, repo string, d digest.Digest) (bool, error) {
	_, err := c.Resolve(ctx, repo+":"+d.Algorithm().String()+"-"+d.Encoded()+".sig")
	if errors.Is(err, oci.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// mergeIndexFile merges entries into an index file, writing it atomically.
func mergeIndexFile(path string, entries artifacts.Index) error {
	var old artifacts.Index
	if data, err := os.ReadFile(path); err == nil {
		if old, err = artifacts.ParseIndex(data); err != nil {
			return &exitError{exitInput, fmt.Errorf("%s: %w", path, err)}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return &exitError{exitUsage, err}
	}
	merged, err := artifacts.Merge(old, entries)
	if err != nil {
		return &exitError{exitInput, err}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, merged.Marshal(), 0o644); err != nil {
		return &exitError{exitUsage, err}
	}
	if err := os.Rename(tmp, path); err != nil {
		return &exitError{exitUsage, err}
	}
	return nil
}
