package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/falcops/falcops/artifacts"
)

// Result is the outcome of PushVersion or Publish.
type Result struct {
	// Digest is the manifest digest now under the version tag.
	Digest digest.Digest
	// Tags are the tags this call wrote, the version tag first when it
	// pushed the version.
	Tags []string
	// Unchanged means the version was already published with the same
	// content: a manifest identical to the artifact's but for the revision
	// (commit) annotation. Nothing was pushed and Digest is the registry's.
	Unchanged bool
}

// PushVersion releases an artifact's content as repo:version, never
// changing what a version names:
//
//   - it resolves repo:version (one HEAD request). A manifest that is the
//     artifact's byte for byte, once its revision annotation is set to the
//     registry manifest's, is Unchanged; anything else under the version
//     (other annotations, sizes, blobs) is ErrImmutable naming both digests,
//     and nothing is written;
//   - otherwise it uploads the missing blobs and pushes the manifest under
//     the version tag, then resolves the version again: another digest
//     means a concurrent publisher pushed in between (ErrImmutable). The
//     registry has no compare-and-swap, so the two pushes can still race;
//     only one publisher per repository closes that window.
//
// Floating tags are left alone: move them with MoveTags once the digest is
// signed.
func (c *Client) PushVersion(ctx context.Context, repo string, a *artifacts.Artifact, version string) (Result, error) {
	if a == nil {
		return Result{}, errors.New("publish: no artifact")
	}
	if a.Config.Version != "" && a.Config.Version != version {
		return Result{}, fmt.Errorf("publish %s: artifact version %q differs from %q", repo, a.Config.Version, version)
	}
	r, err := c.repository(repo)
	if err != nil {
		return Result{}, err
	}
	desc, err := r.Resolve(ctx, version)
	switch err = classify(err); {
	case err == nil:
		if err := c.ours(ctx, r, desc, a); err != nil {
			return Result{}, fmt.Errorf("%w: %s:%s is %s: %w", ErrImmutable, repo, version, desc.Digest, err)
		}
		return Result{Digest: desc.Digest, Unchanged: true}, nil
	case errors.Is(err, ErrNotFound):
	default:
		return Result{}, fmt.Errorf("resolving %s:%s: %w", repo, version, err)
	}
	if err := c.pushBlobs(ctx, r, a); err != nil {
		return Result{}, err
	}
	if err := c.pushManifest(ctx, r, a, version); err != nil {
		return Result{}, err
	}
	after, err := r.Resolve(ctx, version)
	if err != nil {
		return Result{}, fmt.Errorf("resolving %s:%s after the push: %w", repo, version, classify(err))
	}
	if after.Digest != a.ManifestDigest {
		return Result{}, fmt.Errorf("%w: %s:%s is %s, not the %s just pushed: another publisher pushed this version at the same time", ErrImmutable, repo, version, after.Digest, a.ManifestDigest)
	}
	return Result{Digest: a.ManifestDigest, Tags: []string{version}}, nil
}

// ours returns nil when the manifest desc describes is the artifact's
// byte for byte but for the revision annotation, and says what differs
// otherwise.
func (c *Client) ours(ctx context.Context, r *remote.Repository, desc ocispec.Descriptor, a *artifacts.Artifact) error {
	if desc.Digest == a.ManifestDigest {
		return nil
	}
	_, data, err := c.fetchManifest(ctx, r, desc.Digest.String())
	if err != nil {
		return err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("not a manifest: %w", err)
	}
	mine, err := a.WithRevision(m.Annotations[artifacts.AnnotationRevision])
	if err != nil {
		return err
	}
	if !bytes.Equal(data, mine.ManifestBytes) {
		return fmt.Errorf("the new content is %s, and the published manifest is not that content built from another commit", a.ManifestDigest)
	}
	return nil
}

// MoveTags points the floating tags of version that artifacts.Tags
// chooses (X.Y, X and latest unless a higher final release exists) at
// dgst, and returns those it had to move. Tags already there stay; running
// it again after an interruption repairs what was left behind.
func (c *Client) MoveTags(ctx context.Context, repo, version string, dgst digest.Digest) ([]string, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	existing, err := c.tags(ctx, r)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	tags, err := artifacts.Tags(version, existing)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", repo, err)
	}
	var moved []string
	for _, t := range tags {
		if t == version {
			continue
		}
		desc, err := r.Resolve(ctx, t)
		if err = classify(err); err == nil && desc.Digest == dgst {
			continue
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return moved, fmt.Errorf("resolving %s:%s: %w", repo, t, err)
		}
		if err := c.Tag(ctx, repo, dgst, t); err != nil {
			return moved, err
		}
		moved = append(moved, t)
	}
	return moved, nil
}

// Publish releases an artifact as version in repo without signing it:
// PushVersion, then MoveTags. falcops' release (package publish) signs
// between the two, so that floating tags never point at unsigned content.
func (c *Client) Publish(ctx context.Context, repo string, a *artifacts.Artifact, version string) (Result, error) {
	res, err := c.PushVersion(ctx, repo, a, version)
	if err != nil {
		return res, err
	}
	moved, err := c.MoveTags(ctx, repo, version, res.Digest)
	res.Tags = append(res.Tags, moved...)
	return res, err
}

// HasSignature reports whether a cosign signature is stored for the
// digest in repo (one HEAD request on its SignatureTag); whether it is
// valid is Verify's question.
func (c *Client) HasSignature(ctx context.Context, repo string, dgst digest.Digest) (bool, error) {
	_, err := c.Resolve(ctx, repo+":"+SignatureTag(dgst))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Copy copies the manifest dgst of repository from, with everything it
// references, to repository to under tag (both "host/path", which may be
// on different registries) and returns the copied descriptor. Content is
// streamed, blob by blob, and checked against its digests.
func (c *Client) Copy(ctx context.Context, from, to string, dgst digest.Digest, tag string) (ocispec.Descriptor, error) {
	src, err := c.repository(from)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	dst, err := c.repository(to)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	opts := oras.CopyOptions{}
	opts.MaxMetadataBytes = c.maxManifest
	desc, err := oras.Copy(ctx, src, dgst.String(), dst, tag, opts)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("copying %s@%s to %s:%s: %w", from, dgst, to, tag, classify(err))
	}
	return desc, nil
}
