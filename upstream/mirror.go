package upstream

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	digest "github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
)

// MirrorOptions say what to mirror where.
type MirrorOptions struct {
	Client *oci.Client
	// Source and Destination are repositories (host/path).
	Source, Destination string
	// Tags are the X.Y.Z releases to copy; empty: every X.Y.Z tag of
	// Source, at or above Since when it is set.
	Tags  []string
	Since string
	// Trust is upstream's signer, checked at Source before anything is
	// copied.
	Trust Trust
	// Signer is the landscape's key: each copy is signed with it, so
	// shoots verify one key.
	Signer signature.SignerVerifier
	// Progress hears one line per step of each artifact.
	Progress func(string)
}

// Mirrored is what Mirror did to one release.
type Mirrored struct {
	Name, Version string
	Digest        digest.Digest
	// Copied: the artifact was written; SignatureCopied: upstream's .sig;
	// BundlesCopied: the cosign v3 fallback index sha256-<hex>; Signed:
	// the landscape's signature was added; Tags: floating tags moved.
	Copied, SignatureCopied, BundlesCopied, Signed bool
	Tags                                           []string
}

// Writes reports whether anything was written for the release.
func (m Mirrored) Writes() bool {
	return m.Copied || m.SignatureCopied || m.BundlesCopied || m.Signed || len(m.Tags) > 0
}

// ErrOverwrite means the destination holds a release under the same
// version with other content: a published X.Y.Z is never replaced.
var ErrOverwrite = errors.New("the destination holds other content under this version")

// Mirror copies each release: its signature is verified at the source
// first (nothing of a release that fails is copied); then the manifest
// with its blobs (digest preserved), the legacy signature tag
// sha256-<hex>.sig (falcoctl 0.11 reads only that), the cosign v3 bundle
// fallback index sha256-<hex> where the source has one, the landscape's
// signature, and last the floating tags. Each step looks before it writes,
// so a re-run after everything is in place writes nothing, and a re-run
// after an interruption finishes what is missing. Releases go in version
// order, so floating tags end where artifacts.Tags says.
func Mirror(ctx context.Context, o MirrorOptions) ([]Mirrored, error) {
	versions, err := o.versions(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := o.Signer.PublicKey()
	if err != nil {
		return nil, err
	}
	var out []Mirrored
	for i, v := range versions {
		say := func(format string, args ...any) {
			if o.Progress != nil {
				o.Progress(fmt.Sprintf("[%d/%d] %s:%s: ", i+1, len(versions), oci.RepositoryPath(o.Source), v) + fmt.Sprintf(format, args...))
			}
		}
		m, err := o.release(ctx, v, pub, say)
		if err != nil {
			return out, fmt.Errorf("%s:%s: %w", o.Source, v, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// versions are the releases to mirror, lowest first.
func (o MirrorOptions) versions(ctx context.Context) ([]string, error) {
	tags := o.Tags
	if len(tags) == 0 {
		all, err := o.Client.Tags(ctx, o.Source)
		if err != nil {
			return nil, err
		}
		since, err := optionalVersion(o.Since)
		if err != nil {
			return nil, fmt.Errorf("--since: %w", err)
		}
		for _, t := range all {
			v, err := semver.StrictNewVersion(t)
			if err != nil || v.Prerelease() != "" || t != v.String() || (since != nil && v.LessThan(since)) {
				continue
			}
			tags = append(tags, t)
		}
	}
	for _, t := range tags {
		if v, err := semver.StrictNewVersion(t); err != nil || t != v.String() {
			return nil, fmt.Errorf("tag %q is not a release X.Y.Z", t)
		}
	}
	slices.SortFunc(tags, func(a, b string) int { return semver.MustParse(a).Compare(semver.MustParse(b)) })
	return slices.Compact(tags), nil
}

func optionalVersion(s string) (*semver.Version, error) {
	if s == "" {
		return nil, nil
	}
	return semver.StrictNewVersion(s)
}

func (o MirrorOptions) release(ctx context.Context, version string, pub crypto.PublicKey, say func(string, ...any)) (Mirrored, error) {
	src, err := o.Client.Resolve(ctx, o.Source+":"+version)
	if err != nil {
		return Mirrored{}, err
	}
	v, err := o.Client.Verify(ctx, o.Source+":"+version+"@"+src.Digest.String(), o.Trust.verifyOptions(o.Source))
	if err != nil {
		return Mirrored{}, fmt.Errorf("upstream's signature: nothing copied: %w", err)
	}
	say("upstream signature verified (%s)", src.Digest)
	m := Mirrored{Name: v.Name, Version: version, Digest: src.Digest}
	dst, err := o.Client.Resolve(ctx, o.Destination+":"+version)
	switch {
	case err == nil && dst.Digest != src.Digest:
		return m, fmt.Errorf("%w: %s:%s is %s, upstream's is %s", ErrOverwrite, o.Destination, version, dst.Digest, src.Digest)
	case errors.Is(err, oci.ErrNotFound):
		if _, err := o.Client.Copy(ctx, o.Source, o.Destination, src.Digest, version); err != nil {
			return m, err
		}
		m.Copied = true
		say("copied")
	case err != nil:
		return m, err
	}
	for _, tag := range []string{oci.SignatureTag(src.Digest), strings.TrimSuffix(oci.SignatureTag(src.Digest), ".sig")} {
		copied, err := o.copyTag(ctx, tag)
		if err != nil {
			return m, err
		}
		if copied && strings.HasSuffix(tag, ".sig") {
			m.SignatureCopied = true
			say("upstream signature copied (%s)", tag)
		} else if copied {
			m.BundlesCopied = true
			say("cosign bundles copied (%s)", tag)
		}
	}
	ref := o.Destination + "@" + src.Digest.String()
	pem, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return m, err
	}
	if _, err := o.Client.Verify(ctx, ref, oci.VerifyOptions{PublicKey: pem}); err != nil {
		if !errors.Is(err, oci.ErrSignature) {
			return m, err
		}
		if err := o.Client.Sign(ctx, ref, oci.SignOptions{Signer: o.Signer}); err != nil {
			return m, err
		}
		m.Signed = true
		say("signed with the landscape key")
	}
	moved, err := o.Client.MoveTags(ctx, o.Destination, version, src.Digest)
	if err != nil {
		return m, err
	}
	m.Tags = moved
	if len(moved) > 0 {
		say("tags %s", strings.Join(moved, ", "))
	}
	if !m.Writes() {
		say("in place")
	}
	return m, nil
}

// copyTag copies the source's manifest under tag to the destination unless
// the destination has it; false when the source has no such tag. A
// signature tag the landscape's signing extended stays: Sign keeps the
// layers it finds.
func (o MirrorOptions) copyTag(ctx context.Context, tag string) (bool, error) {
	src, err := o.Client.Resolve(ctx, o.Source+":"+tag)
	if errors.Is(err, oci.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := o.Client.Resolve(ctx, o.Destination+":"+tag); err == nil {
		return false, nil
	} else if !errors.Is(err, oci.ErrNotFound) {
		return false, err
	}
	if _, err := o.Client.Copy(ctx, o.Source, o.Destination, src.Digest, tag); err != nil {
		return false, err
	}
	return true, nil
}

// IndexEntry is the falcoctl index entry of a mirrored ruleset: the
// destination's registry and repository, and the path falcoctl reads the
// landscape's public key from.
func IndexEntry(name, destination, publicKeyPath string) artifacts.IndexEntry {
	host, repo, _ := strings.Cut(destination, "/")
	return artifacts.IndexEntry{Name: name, Type: artifacts.TypeRulesfile, Registry: host, Repository: repo,
		Description: "mirrored from upstream by falcops mirror", Keywords: []string{name},
		Signature: &artifacts.Signature{Cosign: &artifacts.CosignSignature{Key: publicKeyPath, IgnoreTlog: true}}}
}
