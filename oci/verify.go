package oci

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/falcops/falcops/artifacts"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
	"oras.land/oras-go/v2/registry"
)

// maxSignatures bounds the signatures checked for one digest.
const maxSignatures = 64

// VerifyOptions choose the trusted key or identity.
type VerifyOptions struct {
	// KeyRef is the public key: a PEM file (cosign.pub), env://VAR (the
	// variable holds the PEM) or a KMS URI. Key-based verification is fully
	// offline: no transparency log, no SCT, no Fulcio roots, no TUF.
	KeyRef string
	// PublicKey is a PEM public key given directly (the controller reads it
	// from a Secret); it takes precedence over KeyRef.
	PublicKey []byte
	// RequireTlog also requires a valid Rekor bundle with each signature;
	// the Rekor public keys then come from the Sigstore TUF repository
	// (online). The default, false, is cosign's --insecure-ignore-tlog,
	// which is what falcops' key-based signatures need.
	RequireTlog bool
	// ExpectedDigest, if set, is the digest the reference must resolve to;
	// another digest fails as "manifest changed".
	ExpectedDigest digest.Digest
	// Annotations, if set, must all be claims of the signed payload, in
	// addition to the name and version every falcops signature carries.
	Annotations map[string]string
	// Repository is the repository path (without the registry host) the
	// signature must name in its docker-reference (default: the path of
	// the reference being verified, so a signature copied to another
	// repository fails). The host is not compared: a registry reachable
	// under two names, or a mirror keeping the paths, still verifies.
	Repository string

	// Keyless verification (KeyRef and PublicKey empty): the signature's
	// certificate must chain to a certificate authority of the trusted root
	// and name the identity (a SAN: email or URI) and the OIDC issuer
	// (Fulcio's extension 1.3.6.1.4.1.57264.1.1), each given exactly or as
	// a regular expression that must match the whole value (anchored, unlike
	// cosign's --certificate-identity-regexp). The Rekor bundle stored with
	// the signature must be signed by a transparency log of the trusted root
	// and match the signature, and the short-lived certificate must have
	// been valid at the log's integration time. SCTs are required only if
	// the trusted root names certificate-transparency logs.
	CertIdentity         string
	CertIdentityRegexp   string
	CertOIDCIssuer       string
	CertOIDCIssuerRegexp string
	// TrustedRootFile is the Sigstore trusted root (trusted_root.json, as
	// sigstore-go's root package reads it) naming the certificate
	// authorities and transparency logs to trust. Keyless verification is
	// offline: without this file it fails, unless TrustedRootTUF asks for
	// the public Sigstore trusted root, fetched online through TUF.
	TrustedRootFile string
	TrustedRootTUF  bool
	// Upstream verifies a third party's plain `cosign sign` signature (as
	// falcosecurity's release workflow writes): its payload claims the
	// digest and the repository but not the name and version annotations
	// every falcops signature carries. The tag, if given, must still match
	// the config's version.
	Upstream bool
}

// Signed annotations of every falcops signature: the artifact config's name
// and version, so a signature cannot be moved to another ruleset or version.
const (
	SignedName    = "name"
	SignedVersion = "version"
)

// maxConfigSize bounds an artifact config read during verification.
const maxConfigSize = 1 << 20

// Verified is what a verification established about an artifact.
type Verified struct {
	Digest digest.Digest
	// Name and Version are the artifact config's, which the signature names.
	Name, Version string
	// Config is the artifact config; MediaType the config's media type
	// (what kind of falcoctl artifact it is).
	Config    artifacts.ArtifactConfig
	MediaType string
	// Annotations are the manifest's annotations.
	Annotations map[string]string
}

// claimError marks a signature that is valid for the key but whose payload
// does not claim the artifact's digest (or lacks a required annotation).
type claimError struct{ err error }

func (e *claimError) Error() string { return e.err.Error() }
func (e *claimError) Unwrap() error { return e.err }

// Verify checks the cosign signatures of the manifest ref names
// ("host/path:tag", "host/path@sha256:..." or "host/path:tag@sha256:...").
// A signature counts only if it verifies with the key (or trusted
// identity) AND its payload binds it to this artifact: the digest claim
// (critical.image.docker-manifest-digest; falcoctl does not check it), the
// repository (critical.identity.docker-reference) and the signed
// annotations name and version, which must be the artifact config's.
// Where ref has a tag, the version must be that tag, lie in that X or X.Y
// line, or the tag must be latest; the manifest's version annotation, when
// present, must be the config's. Failures wrap ErrSignature and say which
// check failed.
func (c *Client) Verify(ctx context.Context, ref string, opts VerifyOptions) (Verified, error) {
	dgst, repo, tag, err := c.resolveForVerify(ctx, ref, opts.ExpectedDigest)
	if err != nil {
		return Verified{}, err
	}
	v, err := c.artifactOf(ctx, repo, dgst)
	if err != nil {
		return Verified{}, fmt.Errorf("verify %s: %w", ref, err)
	}
	if err := v.matchesTag(tag); err != nil {
		return Verified{}, fmt.Errorf("%w: %s: %w", ErrSignature, ref, err)
	}
	signedRepo := opts.Repository
	if signedRepo == "" {
		signedRepo = RepositoryPath(repo)
	}
	want := claims{digest: dgst, repository: signedRepo, annotations: map[string]string{SignedName: v.Name, SignedVersion: v.Version}}
	if opts.Upstream {
		want.annotations = map[string]string{}
	}
	for k, val := range opts.Annotations {
		want.annotations[k] = val
	}
	if err := c.verifySignatures(ctx, repo, want, opts); err != nil {
		return Verified{}, fmt.Errorf("%w (%s)", err, ref)
	}
	return v, nil
}

// artifactOf reads the manifest and config of repo@dgst, bounded.
func (c *Client) artifactOf(ctx context.Context, repo string, dgst digest.Digest) (Verified, error) {
	_, data, err := c.FetchManifest(ctx, repo+"@"+dgst.String())
	if err != nil {
		return Verified{}, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Verified{}, fmt.Errorf("%w: manifest %s is not an image manifest: %w", ErrSignature, dgst, err)
	}
	if m.Config.Size > maxConfigSize {
		return Verified{}, fmt.Errorf("%w: config of %s: %d bytes, more than %d", ErrSignature, dgst, m.Config.Size, maxConfigSize)
	}
	raw, err := c.FetchBlob(ctx, repo, m.Config)
	if err != nil {
		return Verified{}, err
	}
	v := Verified{Digest: dgst, Annotations: m.Annotations, MediaType: m.Config.MediaType}
	if err := json.Unmarshal(raw, &v.Config); err != nil {
		return Verified{}, fmt.Errorf("%w: config of %s: %w", ErrSignature, dgst, err)
	}
	v.Name, v.Version = v.Config.Name, v.Config.Version
	if v.Name == "" || v.Version == "" {
		return Verified{}, fmt.Errorf("%w: config of %s names no artifact name and version", ErrSignature, dgst)
	}
	if a, ok := m.Annotations[artifacts.AnnotationVersion]; ok && a != v.Version {
		return Verified{}, fmt.Errorf("%w: %s: manifest annotation version %q differs from the config's %q", ErrSignature, dgst, a, v.Version)
	}
	return v, nil
}

// matchesTag checks the version against the tag it was reached by: X.Y.Z
// must be the version, X and X.Y must contain it; latest and tags that are
// no version say nothing.
func (v Verified) matchesTag(tag string) error {
	if tag == "" || tag == artifacts.TagLatest || tag == v.Version {
		return nil
	}
	parts := strings.Split(tag, ".")
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 64); err != nil {
			if len(parts) == 3 {
				break
			}
			return nil // not a version tag
		}
	}
	if len(parts) < 3 && strings.HasPrefix(v.Version, tag+".") {
		return nil
	}
	return fmt.Errorf("tag %s names version %s", tag, v.Version)
}

// RepositoryPath is a repository reference without its registry host:
// 127.0.0.1:5000/falcops/heartbeat -> falcops/heartbeat.
func RepositoryPath(repo string) string {
	if host, path, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return path
	}
	return repo
}

// claims are what a signature's payload must say.
type claims struct {
	digest      digest.Digest
	repository  string
	annotations map[string]string
}

// verifySignatures finds one signature of want.digest in repo that
// verifies with the key or identity and makes the claims.
func (c *Client) verifySignatures(ctx context.Context, repo string, want claims, opts VerifyOptions) error {
	co, err := c.checkOpts(ctx, opts, want)
	if err != nil {
		return err
	}
	h, err := v1.NewHash(want.digest.String())
	if err != nil {
		return err
	}
	d, err := name.NewDigest(repo+"@"+want.digest.String(), c.nameOptions()...)
	if err != nil {
		return err
	}
	ropts := c.ociremoteOptions(ctx)
	st, err := ociremote.SignatureTag(d, ropts...)
	if err != nil {
		return err
	}
	sigs, err := ociremote.Signatures(st, ropts...)
	if err != nil {
		return fmt.Errorf("fetching signatures: %w", classify(err))
	}
	list, err := sigs.Get()
	if err != nil {
		return fmt.Errorf("%w: reading the signatures of %s@%s: %w", ErrSignature, repo, want.digest, classify(err))
	}
	if len(list) == 0 {
		return fmt.Errorf("%w: no signatures for %s@%s (unsigned, or the manifest changed after signing)", ErrSignature, repo, want.digest)
	}
	if len(list) > maxSignatures {
		list = list[:maxSignatures]
	}
	var claimErrs, keyErrs []string
	for _, s := range list {
		if size, err := s.Size(); err != nil || size > maxSignaturePayload {
			keyErrs = append(keyErrs, fmt.Sprintf("a signature payload of %d bytes is larger than the %d bytes falcops reads", size, maxSignaturePayload))
			continue
		}
		s, err := static.Copy(s)
		if err != nil {
			keyErrs = append(keyErrs, err.Error())
			continue
		}
		_, err = cosign.VerifyImageSignature(ctx, s, h, co)
		if err == nil {
			return nil
		}
		err = opts.keylessRefusal(s, co, err)
		var ce *claimError
		if errors.As(err, &ce) {
			claimErrs = append(claimErrs, ce.Error())
		} else {
			keyErrs = append(keyErrs, err.Error())
		}
	}
	if len(claimErrs) > 0 {
		return fmt.Errorf("%w: %s@%s: a signature valid for the key claims something else: %s", ErrSignature, repo, want.digest, strings.Join(slices.Compact(claimErrs), "; "))
	}
	who := "key " + opts.KeyRef
	if len(opts.PublicKey) > 0 {
		who = "the given public key"
	} else if opts.KeyRef == "" {
		who = "the trusted identity"
	}
	return fmt.Errorf("%w: %s@%s: no signature verifies with %s (wrong key?): %s", ErrSignature, repo, want.digest, who, strings.Join(slices.Compact(keyErrs), "; "))
}

// resolveForVerify turns ref into a digest and a repository. A tag is
// resolved by HEAD; a tag with a digest must still point at that digest.
func (c *Client) resolveForVerify(ctx context.Context, ref string, expected digest.Digest) (dgst digest.Digest, repo, tag string, err error) {
	base, dstr, hasDigest := strings.Cut(ref, "@")
	if hasDigest {
		d, err := digest.Parse(dstr)
		if err != nil {
			return "", "", "", fmt.Errorf("verify %q: %w", ref, err)
		}
		dgst = d
	}
	r, err := registry.ParseReference(base)
	if err != nil {
		return "", "", "", fmt.Errorf("verify %q: %w", ref, err)
	}
	repo, tag = r.Registry+"/"+r.Repository, r.Reference
	if r.Reference != "" {
		desc, err := c.Resolve(ctx, base)
		if err != nil {
			return "", "", "", fmt.Errorf("verify %s: %w", ref, err)
		}
		if hasDigest && desc.Digest != dgst {
			return "", "", "", fmt.Errorf("%w: manifest changed: %s now points at %s, not %s", ErrSignature, base, desc.Digest, dgst)
		}
		dgst = desc.Digest
	}
	if dgst == "" {
		return "", "", "", fmt.Errorf("verify %q: no tag or digest", ref)
	}
	if expected != "" && dgst != expected {
		return "", "", "", fmt.Errorf("%w: manifest changed: %s is %s, expected %s", ErrSignature, ref, dgst, expected)
	}
	return dgst, repo, tag, nil
}

// checkOpts builds the cosign check options: offline for keys, with the
// digest claim always checked.
func (c *Client) checkOpts(ctx context.Context, opts VerifyOptions, want claims) (*cosign.CheckOpts, error) {
	co := &cosign.CheckOpts{
		RegistryClientOpts: c.ociremoteOptions(ctx),
		ClaimVerifier:      want.verify,
		IgnoreTlog:         !opts.RequireTlog,
		Offline:            true,
		MaxWorkers:         1,
	}
	if opts.KeyRef != "" || len(opts.PublicKey) > 0 {
		ver, err := opts.verifier(ctx)
		if err != nil {
			return nil, err
		}
		co.SigVerifier = ver
		co.IgnoreSCT = true
		if opts.RequireTlog {
			pubs, err := cosign.GetRekorPubs(ctx)
			if err != nil {
				return nil, fmt.Errorf("rekor public keys: %w", err)
			}
			co.RekorPubKeys = pubs
		}
		return co, nil
	}
	// Keyless.
	if err := opts.keylessOptions(co); err != nil {
		return nil, err
	}
	return co, nil
}

// verify is the claim verifier: the payload must claim the digest, name
// the repository and carry the annotations. Failures are claimErrors.
func (want claims) verify(sig oci.Signature, h v1.Hash, _ map[string]interface{}) error {
	p, err := sig.Payload()
	if err != nil {
		return &claimError{err}
	}
	var ss payload.SimpleContainerImage
	if err := json.Unmarshal(p, &ss); err != nil {
		return &claimError{fmt.Errorf("payload: %w", err)}
	}
	if claimed := ss.Critical.Image.DockerManifestDigest; claimed != h.String() || claimed != want.digest.String() {
		return &claimError{fmt.Errorf("payload names digest %q, not %s", claimed, h)}
	}
	if got := RepositoryPath(ss.Critical.Identity.DockerReference); got != want.repository {
		return &claimError{fmt.Errorf("payload names repository %q, not %s (a signature copied from another repository)", got, want.repository)}
	}
	for _, k := range slices.Sorted(maps.Keys(want.annotations)) {
		got, ok := ss.Optional[k]
		if !ok {
			return &claimError{fmt.Errorf("payload has no signed %s (want %q)", k, want.annotations[k])}
		}
		if s, _ := got.(string); s != want.annotations[k] {
			return &claimError{fmt.Errorf("payload signs %s %v, not %q", k, got, want.annotations[k])}
		}
	}
	return nil
}

// verifier loads the public key of a key-based verification.
func (o VerifyOptions) verifier(ctx context.Context) (signature.Verifier, error) {
	if len(o.PublicKey) == 0 {
		return loadVerifier(ctx, o.KeyRef)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(o.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
}
