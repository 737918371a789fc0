package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/falcops/falcops/artifacts"
)

// Default read limits. Every read from a registry is bounded.
const (
	// DefaultMaxManifestSize bounds a manifest (OCI recommends 4 MiB).
	DefaultMaxManifestSize = 4 << 20
	// DefaultMaxBlobSize bounds any blob, whatever its descriptor says.
	DefaultMaxBlobSize = 64 << 20
	// maxTagPages bounds the pages of one tag listing.
	maxTagPages = 100
)

// manifestMediaTypes are the manifest types Resolve and FetchManifest accept.
var manifestMediaTypes = []string{
	ocispec.MediaTypeImageManifest,
	ocispec.MediaTypeImageIndex,
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

// Options configure a Client. The zero value talks HTTPS with the Docker
// credentials of the current user.
type Options struct {
	// PlainHTTP talks HTTP instead of HTTPS (loopback test registries,
	// `falcops registry serve`).
	PlainHTTP bool
	// Transport is the base round tripper (default: a clone of
	// http.DefaultTransport). Retries and authentication are layered on top,
	// so a middleware here sees every single request.
	Transport http.RoundTripper
	// Credential returns the credentials for a registry host. Nil reads the
	// Docker configuration (DockerConfig, else $DOCKER_CONFIG/config.json or
	// ~/.docker/config.json) with its credential helpers; if that cannot be
	// read, requests go without credentials.
	Credential auth.CredentialFunc
	// DockerConfig is the path of a Docker config.json to read credentials
	// from instead of the default location.
	DockerConfig string
	// Retry bounds retries of transient failures.
	Retry RetryPolicy
	// Clock measures Retry-After dates when an answer has no Date header
	// (nil: such dates are ignored and the backoff applies).
	Clock func() time.Time
	// UserAgent is sent with every request (default "falcops").
	UserAgent string
	// MaxManifestSize and MaxBlobSize bound reads (defaults
	// DefaultMaxManifestSize, DefaultMaxBlobSize).
	MaxManifestSize int64
	MaxBlobSize     int64
}

// Client is a registry client. It is safe for concurrent use and should be
// reused: it caches authentication tokens per registry and scope.
type Client struct {
	plainHTTP   bool
	http        *http.Client // retrying, unauthenticated (ggcr/cosign add auth)
	auth        *auth.Client // retrying and authenticating (oras)
	credential  auth.CredentialFunc
	userAgent   string
	maxManifest int64
	maxBlob     int64
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	base := opts.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	cred := opts.Credential
	if cred == nil {
		cred = dockerCredential(opts.DockerConfig)
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "falcops"
	}
	hc := &http.Client{Transport: newRetryTransport(base, opts.Retry, opts.Clock)}
	ac := &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {ua}},
		Credential: cred,
		Cache:      auth.NewCache(),
	}
	c := &Client{
		plainHTTP:   opts.PlainHTTP,
		http:        hc,
		auth:        ac,
		credential:  cred,
		userAgent:   ua,
		maxManifest: opts.MaxManifestSize,
		maxBlob:     opts.MaxBlobSize,
	}
	if c.maxManifest <= 0 {
		c.maxManifest = DefaultMaxManifestSize
	}
	if c.maxBlob <= 0 {
		c.maxBlob = DefaultMaxBlobSize
	}
	return c, nil
}

// dockerCredential reads credentials from a Docker config file and its
// credential helpers; if the configuration cannot be read it falls back to
// anonymous access.
func dockerCredential(path string) auth.CredentialFunc {
	var store credentials.Store
	var err error
	if path != "" {
		store, err = credentials.NewStore(path, credentials.StoreOptions{})
	} else {
		store, err = credentials.NewStoreFromDocker(credentials.StoreOptions{})
	}
	if err != nil {
		return func(context.Context, string) (auth.Credential, error) { return auth.EmptyCredential, nil }
	}
	return credentials.Credential(store)
}

// repository returns an oras repository for "host/path" (a tag or digest,
// if any, is ignored).
func (c *Client) repository(repo string) (*remote.Repository, error) {
	ref, err := registry.ParseReference(repo)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repo, err)
	}
	ref.Reference = ""
	return &remote.Repository{
		Client:             c.auth,
		Reference:          ref,
		PlainHTTP:          c.plainHTTP,
		ManifestMediaTypes: manifestMediaTypes,
		TagListMaxPages:    maxTagPages,
	}, nil
}

// reference parses "host/path:tag" or "host/path@sha256:...".
func (c *Client) reference(ref string) (*remote.Repository, string, error) {
	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, "", fmt.Errorf("reference %q: %w", ref, err)
	}
	if r.Reference == "" {
		return nil, "", fmt.Errorf("reference %q: no tag or digest", ref)
	}
	repo, err := c.repository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, "", err
	}
	return repo, r.Reference, nil
}

// Resolve returns the manifest descriptor a tag or digest reference points
// to, with one HEAD request.
func (c *Client) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	repo, reference, err := c.reference(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := repo.Resolve(ctx, reference)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("resolving %s: %w", ref, classify(err))
	}
	return desc, nil
}

// Tags lists the tags of a repository ("host/path"). For a repository that
// does not exist yet, registries answer with no tags or ErrNotFound.
func (c *Client) Tags(ctx context.Context, repo string) ([]string, error) {
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	return c.tags(ctx, r)
}

func (c *Client) tags(ctx context.Context, r *remote.Repository) ([]string, error) {
	var tags []string
	err := r.Tags(ctx, "", func(page []string) error {
		tags = append(tags, page...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing tags of %s: %w", r.Reference, classify(err))
	}
	return tags, nil
}

// Push uploads an artifact's blobs that the repository does not have yet and
// then its manifest under tag. It does not check what tag pointed to before.
func (c *Client) Push(ctx context.Context, repo string, a *artifacts.Artifact, tag string) (ocispec.Descriptor, error) {
	r, err := c.repository(repo)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := c.pushBlobs(ctx, r, a); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := a.ManifestDescriptor()
	if err := c.pushManifest(ctx, r, a, tag); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

func (c *Client) pushBlobs(ctx context.Context, r *remote.Repository, a *artifacts.Artifact) error {
	for _, b := range a.Blobs() {
		ok, err := r.Blobs().Exists(ctx, b.Descriptor)
		if err != nil {
			return fmt.Errorf("checking blob %s in %s: %w", b.Descriptor.Digest, r.Reference, classify(err))
		}
		if ok {
			continue
		}
		if err := r.Blobs().Push(ctx, b.Descriptor, bytes.NewReader(b.Data)); err != nil {
			return fmt.Errorf("pushing blob %s to %s: %w", b.Descriptor.Digest, r.Reference, classify(err))
		}
	}
	return nil
}

func (c *Client) pushManifest(ctx context.Context, r *remote.Repository, a *artifacts.Artifact, tag string) error {
	if err := r.Manifests().PushReference(ctx, a.ManifestDescriptor(), bytes.NewReader(a.ManifestBytes), tag); err != nil {
		return fmt.Errorf("pushing manifest %s to %s:%s: %w", a.ManifestDigest, r.Reference, tag, classify(err))
	}
	return nil
}

// Tag points tag at the manifest with digest dgst in repo (one GET of the
// manifest, one PUT).
func (c *Client) Tag(ctx context.Context, repo string, dgst digest.Digest, tag string) error {
	r, err := c.repository(repo)
	if err != nil {
		return err
	}
	desc, data, err := c.fetchManifest(ctx, r, dgst.String())
	if err != nil {
		return err
	}
	if err := r.Manifests().PushReference(ctx, desc, bytes.NewReader(data), tag); err != nil {
		return fmt.Errorf("tagging %s@%s as %s: %w", repo, dgst, tag, classify(err))
	}
	return nil
}

// FetchManifest returns the descriptor and the bytes of the manifest a
// reference points to. The size is bounded (MaxManifestSize) and the bytes
// are checked against the digest.
func (c *Client) FetchManifest(ctx context.Context, ref string) (ocispec.Descriptor, []byte, error) {
	repo, reference, err := c.reference(ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return c.fetchManifest(ctx, repo, reference)
}

func (c *Client) fetchManifest(ctx context.Context, r *remote.Repository, reference string) (ocispec.Descriptor, []byte, error) {
	desc, rc, err := r.Manifests().FetchReference(ctx, reference)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("fetching manifest %s:%s: %w", r.Reference, reference, classify(err))
	}
	defer rc.Close() //nolint:errcheck // read side: nothing to flush
	if desc.Size > c.maxManifest {
		return ocispec.Descriptor{}, nil, fmt.Errorf("manifest %s:%s: size %d exceeds the limit of %d bytes", r.Reference, reference, desc.Size, c.maxManifest)
	}
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("reading manifest %s:%s: %w", r.Reference, reference, err)
	}
	if d, err := digest.Parse(reference); err == nil && d != desc.Digest {
		return ocispec.Descriptor{}, nil, fmt.Errorf("manifest %s: registry answered with digest %s", d, desc.Digest)
	}
	return desc, data, nil
}

// FetchBlob reads the blob desc describes from repo, at most desc.Size bytes
// and never more than MaxBlobSize, and checks it against the digest.
func (c *Client) FetchBlob(ctx context.Context, repo string, desc ocispec.Descriptor) ([]byte, error) {
	if desc.Size < 0 || desc.Size > c.maxBlob {
		return nil, fmt.Errorf("blob %s: size %d outside the limit of %d bytes", desc.Digest, desc.Size, c.maxBlob)
	}
	r, err := c.repository(repo)
	if err != nil {
		return nil, err
	}
	rc, err := r.Blobs().Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s from %s: %w", desc.Digest, repo, classify(err))
	}
	defer rc.Close() //nolint:errcheck // read side: nothing to flush
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		return nil, fmt.Errorf("reading blob %s from %s: %w", desc.Digest, repo, err)
	}
	return data, nil
}

// Result is the outcome of Publish.
type Result struct {
	// Digest is the manifest digest now under the version tag.
	Digest digest.Digest
	// Tags are the tags this call wrote, the version tag first; empty when
	// Unchanged.
	Tags []string
	// Unchanged means the version was already published with the same
	// content (the same config and layer; annotations such as the commit
	// may differ); nothing was written and Digest is what the registry has.
	Unchanged bool
}

// Publish releases an artifact as version in repo ("host/path"):
//
//   - it resolves repo:version first (one HEAD request). The same digest
//     means Unchanged and nothing else is sent; another digest whose
//     manifest has the artifact's config and layer (only annotations such as
//     the commit differ) is Unchanged too; anything else is ErrImmutable and
//     nothing is written;
//   - otherwise it lists the tags, computes the tags to move with
//     artifacts.Tags (X.Y.Z, and X.Y, X, latest unless a higher final
//     release exists), uploads the missing blobs, pushes the manifest under
//     the version tag and then under each other tag.
//
// Publishing is not atomic: two publishers of the same version race, and a
// failure after the version tag leaves the floating tags where they were
// (a later Publish reports Unchanged; Tag repairs them).
func (c *Client) Publish(ctx context.Context, repo string, a *artifacts.Artifact, version string) (Result, error) {
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
		same, err := c.sameContent(ctx, r, desc, a)
		if err != nil {
			return Result{}, err
		}
		if same {
			return Result{Digest: desc.Digest, Unchanged: true}, nil
		}
		return Result{}, fmt.Errorf("%w: %s:%s is %s, the new content is %s", ErrImmutable, repo, version, desc.Digest, a.ManifestDigest)
	case errors.Is(err, ErrNotFound):
	default:
		return Result{}, fmt.Errorf("resolving %s:%s: %w", repo, version, err)
	}
	existing, err := c.tags(ctx, r)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Result{}, err
	}
	tags, err := artifacts.Tags(version, existing)
	if err != nil {
		return Result{}, fmt.Errorf("publish %s: %w", repo, err)
	}
	if len(tags) == 0 || tags[0] != version {
		// artifacts.Tags promises the version first; keep it so.
		tags = append([]string{version}, slices.DeleteFunc(tags, func(t string) bool { return t == version })...)
	}
	if err := c.pushBlobs(ctx, r, a); err != nil {
		return Result{}, err
	}
	res := Result{Digest: a.ManifestDigest}
	for _, t := range tags {
		if err := c.pushManifest(ctx, r, a, t); err != nil {
			return res, err
		}
		res.Tags = append(res.Tags, t)
	}
	return res, nil
}

// sameContent reports whether the manifest desc describes holds the
// artifact's config and layer: then only annotations such as the commit
// differ.
func (c *Client) sameContent(ctx context.Context, r *remote.Repository, desc ocispec.Descriptor, a *artifacts.Artifact) (bool, error) {
	if desc.Digest == a.ManifestDigest {
		return true, nil
	}
	_, data, err := c.fetchManifest(ctx, r, desc.Digest.String())
	if err != nil {
		return false, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return false, fmt.Errorf("manifest %s@%s: %w", r.Reference, desc.Digest, err)
	}
	return m.Config.Digest == a.ConfigDescriptor.Digest && len(m.Layers) == 1 && m.Layers[0].Digest == a.LayerDescriptor.Digest, nil
}

// HasSignature reports whether a cosign signature is stored for the
// digest in repo (one HEAD request on its SignatureTag).
func (c *Client) HasSignature(ctx context.Context, repo string, dgst digest.Digest) (bool, error) {
	_, err := c.Resolve(ctx, repo+":"+SignatureTag(dgst))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
