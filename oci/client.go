package oci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
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
	// PlainHTTP talks HTTP instead of HTTPS, to loopback registries only
	// (tests, `falcops registry serve`) unless AllowInsecureRemote is set.
	PlainHTTP bool
	// AllowInsecureRemote lets PlainHTTP reach registries that are not on
	// loopback: anyone on the path can then change what is pulled and pushed.
	AllowInsecureRemote bool
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
	// HeaderTimeout bounds the wait for each answer's headers and
	// IdleTimeout a pause inside its body (defaults DefaultHeaderTimeout,
	// DefaultIdleTimeout). They hold per request; the caller's context
	// bounds the whole operation.
	HeaderTimeout time.Duration
	IdleTimeout   time.Duration
}

// Client is a registry client. It is safe for concurrent use and should be
// reused: it caches authentication tokens per registry and scope.
type Client struct {
	plainHTTP   bool
	insecureAny bool
	http        *http.Client      // retrying, unauthenticated (ggcr/cosign add auth)
	ggcr        http.RoundTripper // as http, and no answer read past maxManifest
	auth        *auth.Client      // retrying and authenticating (oras)
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
	header, idle := opts.HeaderTimeout, opts.IdleTimeout
	if header <= 0 {
		header = DefaultHeaderTimeout
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	maxManifest := opts.MaxManifestSize
	if maxManifest <= 0 {
		maxManifest = DefaultMaxManifestSize
	}
	hc := &http.Client{Transport: newRetryTransport(&boundedTransport{base: base, header: header, idle: idle}, opts.Retry, opts.Clock)}
	// go-containerregistry reads whole manifests (up to 100 MiB) and cosign
	// whole payloads (up to 128 MiB): no answer it reads may pass our
	// manifest bound.
	ggcr := newRetryTransport(&boundedTransport{base: base, header: header, idle: idle, maxBody: maxManifest}, opts.Retry, opts.Clock)
	ac := &auth.Client{
		Client:     hc,
		Header:     http.Header{"User-Agent": {ua}},
		Credential: cred,
		Cache:      auth.NewCache(),
	}
	c := &Client{
		plainHTTP:   opts.PlainHTTP,
		insecureAny: opts.AllowInsecureRemote,
		http:        hc,
		ggcr:        ggcr,
		auth:        ac,
		credential:  cred,
		userAgent:   ua,
		maxManifest: maxManifest,
		maxBlob:     opts.MaxBlobSize,
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
	if err := c.checkTransport(ref.Registry); err != nil {
		return nil, err
	}
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
	// A page of maxTags tags of 50 bytes each fits; a hostile page of
	// millions of one-letter tags does not get decoded. (r is ours: made
	// for this listing by repository.)
	defer func(old int64) { r.MaxMetadataBytes = old }(r.MaxMetadataBytes)
	r.MaxMetadataBytes = maxTagPage
	var tags []string
	err := r.Tags(ctx, "", func(page []string) error {
		tags = append(tags, page...)
		if len(tags) > maxTags {
			return fmt.Errorf("%w: more than %d tags", ErrTooLarge, maxTags)
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrTooLarge) && strings.Contains(err.Error(), "failed to decode response") {
		err = fmt.Errorf("%w: a page of tags that is not JSON or larger than %d bytes: %w", ErrTooLarge, maxTagPage, err)
	}
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

// ErrInsecure means plain HTTP was asked for a registry that is not on
// loopback without AllowInsecureRemote.
var ErrInsecure = errors.New("plain HTTP is only allowed to loopback registries")

// checkTransport refuses plain HTTP to a host that is not on loopback.
func (c *Client) checkTransport(host string) error {
	if !c.plainHTTP || c.insecureAny || IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w: %s (allow it explicitly to talk HTTP to a remote registry)", ErrInsecure, host)
}

// IsLoopback reports whether a registry host[:port] is localhost or a
// loopback address.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
