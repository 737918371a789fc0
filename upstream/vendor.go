package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/rules"
)

// VendorOptions say what to vendor and where.
type VendorOptions struct {
	Client *oci.Client
	// Repository is the upstream repository (host/path), e.g.
	// ghcr.io/falcosecurity/rules/falco-rules; Version the release.
	Repository string
	Version    string
	Trust      Trust
	// SignedRepository is the repository path the signature names
	// (default: Repository's path), for an upstream read through a mirror.
	SignedRepository string
	// Dir is the ruleset folder written (created or replaced).
	Dir string
}

// Vendored is what Vendor did.
type Vendored struct {
	Manifest rules.Manifest
	// Unchanged: the folder already held this artifact's files.
	Unchanged bool
}

// Vendor verifies the upstream release's signature, then writes its rules
// files into o.Dir byte for byte, with a ruleset.yaml that records the
// reference, digest, signer and each file's digest (validate checks them).
// Files of an earlier vendored version that the new one lacks are removed;
// nothing is written when the signature does not verify.
func Vendor(ctx context.Context, o VendorOptions) (*Vendored, error) {
	ref := o.Repository + ":" + o.Version
	signed := o.SignedRepository
	if signed == "" {
		signed = o.Repository
	}
	v, err := o.Client.Verify(ctx, ref, o.Trust.verifyOptions(signed))
	if err != nil {
		return nil, fmt.Errorf("%s: not vendored: %w", ref, err)
	}
	layer, err := rulesLayer(ctx, o.Client, o.Repository, v.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	blob, err := o.Client.FetchBlob(ctx, o.Repository, layer)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(o.Dir), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(o.Dir), ".vendor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // best effort: a temporary folder
	names, err := artifacts.Extract(bytes.NewReader(blob), tmp, artifacts.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	identity, issuer := o.Trust.Signer()
	m := rules.Manifest{Name: v.Name, Version: v.Version,
		Description: fmt.Sprintf("Upstream %s %s, unchanged: vendored by falcops vendor from %s. Do not edit these files; tune them in a ruleset that dependsOn this one.", v.Name, v.Version, ref),
		Upstream:    &rules.Upstream{Ref: ref, Digest: v.Digest.String(), Signer: rules.Signer{Identity: identity, Issuer: issuer}, Files: map[string]string{}}}
	if err := digestFiles(tmp, names, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if old, _ := rules.ReadManifest(o.Dir); old != nil && old.Manifest.Upstream != nil && old.Manifest.Upstream.Digest == m.Upstream.Digest {
		if rules.CheckVendored(old) == nil {
			return &Vendored{Manifest: old.Manifest, Unchanged: true}, nil
		}
	} else if old != nil {
		for _, f := range old.Manifest.Files { // the earlier version's files go
			if err := os.Remove(filepath.Join(o.Dir, filepath.Clean(f))); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	if err := writeFolder(o.Dir, tmp, m); err != nil {
		return nil, err
	}
	return &Vendored{Manifest: m}, nil
}

// digestFiles records the extracted rules files (names, below dir) in m
// with their sha256 digests.
func digestFiles(dir string, names []string, m *rules.Manifest) error {
	for _, n := range names {
		info, err := os.Lstat(filepath.Join(dir, n))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") {
			return fmt.Errorf("%s is not a rules file (.yaml)", n)
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, n)
		m.Upstream.Files[n] = "sha256:" + hex.EncodeToString(sum[:])
	}
	slices.Sort(m.Files)
	if len(m.Files) == 0 {
		return errors.New("the artifact holds no rules file")
	}
	return nil
}

// writeFolder moves m's files from tmp into dir and writes its manifest.
func writeFolder(dir, tmp string, m rules.Manifest) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range m.Files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(tmp, f), filepath.Join(dir, f)); err != nil {
			return err
		}
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	header := "# Vendored by `falcops vendor`: the files are upstream's, byte for byte; validate\n# checks them against upstream.files. Update with `falcops vendor` again.\n"
	return os.WriteFile(filepath.Join(dir, rules.ManifestFile), append([]byte(header), data...), 0o644)
}

// rulesLayer is the one rulesfile layer of the manifest repo@dgst.
func rulesLayer(ctx context.Context, c *oci.Client, repo, dgst string) (ocispec.Descriptor, error) {
	_, data, err := c.FetchManifest(ctx, repo+"@"+dgst)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", dgst, err)
	}
	var out []ocispec.Descriptor
	for _, l := range m.Layers {
		if l.MediaType == artifacts.MediaTypeRulesfileLayer {
			out = append(out, l)
		}
	}
	if len(out) != 1 {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s has %d rulesfile layers, want 1: not a falcoctl rulesfile artifact", dgst, len(out))
	}
	return out[0], nil
}
