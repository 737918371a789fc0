package oci

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	"github.com/sigstore/cosign/v2/pkg/oci"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/sigstore-go/pkg/root"
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
	// Annotations, if set, must all be claims of the signed payload.
	Annotations map[string]string

	// Keyless verification (KeyRef empty): the certificate identity and
	// issuer that must have signed (exact or regular expression), and the
	// Sigstore trusted root (a trusted_root.json file; empty fetches the
	// public one through TUF, online).
	CertIdentity         string
	CertIdentityRegexp   string
	CertOIDCIssuer       string
	CertOIDCIssuerRegexp string
	TrustedRootFile      string
}

// claimError marks a signature that is valid for the key but whose payload
// does not claim the artifact's digest (or lacks a required annotation).
type claimError struct{ err error }

func (e *claimError) Error() string { return e.err.Error() }
func (e *claimError) Unwrap() error { return e.err }

// Verify checks the cosign signatures of the manifest ref names
// ("host/path:tag", "host/path@sha256:..." or "host/path:tag@sha256:...")
// and returns the verified digest. A signature counts only if it verifies
// with the key AND its payload's critical.image.docker-manifest-digest is
// the manifest's digest (falcoctl does not check the latter). Failures wrap
// ErrSignature and say which check failed: no signatures, wrong key, a
// payload naming another digest, or a manifest that changed (the tag no
// longer points at the expected digest).
func (c *Client) Verify(ctx context.Context, ref string, opts VerifyOptions) (digest.Digest, error) {
	dgst, repo, err := c.resolveForVerify(ctx, ref, opts.ExpectedDigest)
	if err != nil {
		return "", err
	}
	co, err := c.checkOpts(ctx, opts)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", ref, err)
	}
	h, err := v1.NewHash(dgst.String())
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", ref, err)
	}
	d, err := name.NewDigest(repo+"@"+dgst.String(), c.nameOptions()...)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", ref, err)
	}
	ropts := c.ociremoteOptions(ctx)
	st, err := ociremote.SignatureTag(d, ropts...)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", ref, err)
	}
	sigs, err := ociremote.Signatures(st, ropts...)
	if err != nil {
		return "", fmt.Errorf("verify %s: fetching signatures: %w", ref, classify(err))
	}
	list, err := sigs.Get()
	if err != nil {
		return "", fmt.Errorf("verify %s: reading signatures: %w", ref, classify(err))
	}
	if len(list) == 0 {
		return "", fmt.Errorf("%w: no signatures for %s@%s (unsigned, or the manifest changed after signing)", ErrSignature, repo, dgst)
	}
	if len(list) > maxSignatures {
		list = list[:maxSignatures]
	}
	var claimErrs, keyErrs []string
	for _, s := range list {
		s, err := static.Copy(s)
		if err != nil {
			keyErrs = append(keyErrs, err.Error())
			continue
		}
		_, err = cosign.VerifyImageSignature(ctx, s, h, co)
		if err == nil {
			return dgst, nil
		}
		var ce *claimError
		if errors.As(err, &ce) {
			claimErrs = append(claimErrs, ce.Error())
		} else {
			keyErrs = append(keyErrs, err.Error())
		}
	}
	if len(claimErrs) > 0 {
		return "", fmt.Errorf("%w: %s@%s: a signature valid for the key claims something else: %s", ErrSignature, repo, dgst, strings.Join(claimErrs, "; "))
	}
	who := "key " + opts.KeyRef
	if len(opts.PublicKey) > 0 {
		who = "the given public key"
	} else if opts.KeyRef == "" {
		who = "the trusted identity"
	}
	return "", fmt.Errorf("%w: %s@%s: no signature verifies with %s (wrong key?): %s", ErrSignature, repo, dgst, who, strings.Join(keyErrs, "; "))
}

// resolveForVerify turns ref into a digest and a repository. A tag is
// resolved by HEAD; a tag with a digest must still point at that digest.
func (c *Client) resolveForVerify(ctx context.Context, ref string, expected digest.Digest) (digest.Digest, string, error) {
	base, dstr, hasDigest := strings.Cut(ref, "@")
	var dgst digest.Digest
	if hasDigest {
		d, err := digest.Parse(dstr)
		if err != nil {
			return "", "", fmt.Errorf("verify %q: %w", ref, err)
		}
		dgst = d
	}
	r, err := registry.ParseReference(base)
	if err != nil {
		return "", "", fmt.Errorf("verify %q: %w", ref, err)
	}
	repo := r.Registry + "/" + r.Repository
	if r.Reference != "" {
		desc, err := c.Resolve(ctx, base)
		if err != nil {
			return "", "", fmt.Errorf("verify %s: %w", ref, err)
		}
		if hasDigest && desc.Digest != dgst {
			return "", "", fmt.Errorf("%w: manifest changed: %s now points at %s, not %s", ErrSignature, base, desc.Digest, dgst)
		}
		dgst = desc.Digest
	}
	if dgst == "" {
		return "", "", fmt.Errorf("verify %q: no tag or digest", ref)
	}
	if expected != "" && dgst != expected {
		return "", "", fmt.Errorf("%w: manifest changed: %s is %s, expected %s", ErrSignature, ref, dgst, expected)
	}
	return dgst, repo, nil
}

// checkOpts builds the cosign check options: offline for keys, with the
// digest claim always checked.
func (c *Client) checkOpts(ctx context.Context, opts VerifyOptions) (*cosign.CheckOpts, error) {
	var ann map[string]interface{}
	if len(opts.Annotations) > 0 {
		ann = make(map[string]interface{}, len(opts.Annotations))
		for k, v := range opts.Annotations {
			ann[k] = v
		}
	}
	co := &cosign.CheckOpts{
		RegistryClientOpts: c.ociremoteOptions(ctx),
		ClaimVerifier:      claimVerifier,
		Annotations:        ann,
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
	if (opts.CertIdentity == "" && opts.CertIdentityRegexp == "") || (opts.CertOIDCIssuer == "" && opts.CertOIDCIssuerRegexp == "") {
		return nil, errors.New("no key, and no certificate identity and issuer to verify against")
	}
	co.Identities = []cosign.Identity{{
		Subject:       opts.CertIdentity,
		SubjectRegExp: opts.CertIdentityRegexp,
		Issuer:        opts.CertOIDCIssuer,
		IssuerRegExp:  opts.CertOIDCIssuerRegexp,
	}}
	var tm root.TrustedMaterial
	var err error
	if opts.TrustedRootFile != "" {
		tm, err = root.NewTrustedRootFromPath(opts.TrustedRootFile)
	} else {
		tm, err = cosign.TrustedRoot()
	}
	if err != nil {
		return nil, fmt.Errorf("sigstore trusted root: %w", err)
	}
	co.TrustedMaterial = tm
	co.IgnoreTlog = false
	return co, nil
}

// claimVerifier is cosign.SimpleClaimVerifier (the payload must claim the
// digest being verified, and carry the required annotations) plus an
// explicit comparison of the claimed digest, so a change in the library
// cannot silently drop the check. Failures are claimErrors.
func claimVerifier(sig oci.Signature, h v1.Hash, ann map[string]interface{}) error {
	if err := cosign.SimpleClaimVerifier(sig, h, ann); err != nil {
		claimed := claimedDigest(sig)
		if claimed != "" && claimed != h.String() {
			return &claimError{fmt.Errorf("payload names digest %s, not %s", claimed, h)}
		}
		return &claimError{err}
	}
	if claimed := claimedDigest(sig); claimed != h.String() {
		return &claimError{fmt.Errorf("payload names digest %q, not %s", claimed, h)}
	}
	return nil
}

func claimedDigest(sig oci.Signature) string {
	p, err := sig.Payload()
	if err != nil {
		return ""
	}
	var ss payload.SimpleContainerImage
	if err := json.Unmarshal(p, &ss); err != nil {
		return ""
	}
	return ss.Critical.Image.DockerManifestDigest
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
