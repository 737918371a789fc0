package oci

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	digest "github.com/opencontainers/go-digest"
	"github.com/sigstore/cosign/v2/pkg/cosign"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	cremote "github.com/sigstore/cosign/v2/pkg/cosign/remote"
	coci "github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/empty"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	fulcioapi "github.com/sigstore/fulcio/pkg/api"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/oauthflow"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Public Sigstore services, used only when a caller asks for the
// transparency log or keyless signing.
const (
	DefaultRekorURL  = "https://rekor.sigstore.dev"
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
)

// SignOptions choose the key and what is uploaded where.
type SignOptions struct {
	// KeyRef is the private key: a cosign key file (cosign.key), env://VAR
	// (the variable holds the encrypted PEM, e.g. env://COSIGN_PRIVATE_KEY),
	// or a KMS URI (awskms://, gcpkms://, azurekms://, hashivault://; see
	// KMSProviders for those compiled in). Empty with IDToken set means
	// keyless signing.
	KeyRef string
	// Signer is a key loaded once with LoadSigner; it wins over KeyRef. Use
	// it to sign many artifacts: decrypting a cosign key file costs a
	// deliberately slow scrypt derivation each time.
	Signer signature.SignerVerifier
	// Password decrypts a key file or env:// key (nil: $COSIGN_PASSWORD).
	Password func() ([]byte, error)
	// TlogUpload also records the signature in the Rekor transparency log
	// (RekorURL) and stores the log's bundle with the signature. Default
	// false: signing is offline and needs only the registry.
	TlogUpload bool
	// RekorURL is the Rekor instance (default DefaultRekorURL).
	RekorURL string
	// Annotations are optional claims written into the signed payload;
	// VerifyOptions.Annotations can require them.
	Annotations map[string]string

	// IDToken is an OIDC identity token (e.g. from the CI's OIDC provider
	// with audience "sigstore") for keyless signing: an ephemeral key is
	// certified by Fulcio for the token's identity. Keyless signing needs
	// TlogUpload, because the certificate is valid for minutes only and the
	// log entry proves the signing time.
	IDToken string
	// FulcioURL is the Fulcio instance (default DefaultFulcioURL).
	FulcioURL string
	// Plain writes no name and version annotations, as `cosign sign`
	// without -a does: what an upstream publisher's signature looks like
	// (falcops' own signatures always carry them).
	Plain bool
}

// Sign signs the manifest that ref ("host/path@sha256:...") names with a
// legacy cosign signature: a simple-signing payload whose
// critical.image.docker-manifest-digest is the digest and
// critical.identity.docker-reference the repository, with the artifact
// config's name and version as signed annotations (SignedName,
// SignedVersion), stored as a layer of the manifest tagged
// sha256-<hex>.sig in the same repository. This is the format falcoctl
// (v0.11 and later) and the cosign v2/v3 CLIs verify. Signing again with
// the same key adds no duplicate; a signature manifest that cannot be read
// (junk under the tag) is replaced by one holding only this signature.
func (c *Client) Sign(ctx context.Context, ref string, opts SignOptions) error {
	d, err := name.NewDigest(ref, c.nameOptions()...)
	if err != nil {
		return fmt.Errorf("sign %q: a digest reference (repo@sha256:...) is needed: %w", ref, err)
	}
	keyless := opts.KeyRef == "" && opts.Signer == nil && opts.IDToken != ""
	if opts.KeyRef == "" && opts.Signer == nil && !keyless {
		return fmt.Errorf("sign %s: no key reference and no identity token", ref)
	}
	if keyless && !opts.TlogUpload {
		return fmt.Errorf("sign %s: keyless signing needs TlogUpload (the certificate expires within minutes)", ref)
	}

	// Read what is signed first: its name and version go into the payload.
	v, err := c.artifactOf(ctx, d.Repository.Name(), digest.Digest(d.DigestStr()))
	if err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}

	var sv signature.SignerVerifier
	var cert, chain []byte
	switch {
	case opts.Signer != nil:
		sv = opts.Signer
	case keyless:
		sv, cert, chain, err = c.keylessSigner(opts)
	default:
		sv, err = loadSigner(ctx, opts.KeyRef, opts.Password)
	}
	if err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}

	ann := map[string]interface{}{SignedName: v.Name, SignedVersion: v.Version}
	if opts.Plain {
		ann = map[string]interface{}{}
	}
	for k, val := range opts.Annotations {
		if prev, ok := ann[k]; ok && prev != val {
			return fmt.Errorf("sign %s: annotation %s %q differs from the artifact's %q", ref, k, val, prev)
		}
		ann[k] = val
	}
	pl, err := (&payload.Cosign{Image: d, Annotations: ann}).MarshalJSON()
	if err != nil {
		return fmt.Errorf("sign %s: payload: %w", ref, err)
	}
	sig, err := sv.SignMessage(bytes.NewReader(pl))
	if err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}
	var sopts []static.Option
	if cert != nil {
		sopts = append(sopts, static.WithCertChain(cert, chain))
	}
	if opts.TlogUpload {
		b, err := c.tlogUpload(ctx, opts, sv, sig, pl, cert)
		if err != nil {
			return fmt.Errorf("sign %s: %w", ref, err)
		}
		sopts = append(sopts, static.WithBundle(b))
	}
	ociSig, err := static.NewSignature(pl, base64.StdEncoding.EncodeToString(sig), sopts...)
	if err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}

	if err := c.attach(ctx, d, ociSig, sv); err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}
	return nil
}

// attach stores sig with the signatures of d under its signature tag,
// without a duplicate for the same key.
func (c *Client) attach(ctx context.Context, d name.Digest, sig coci.Signature, sv signature.SignerVerifier) error {
	ropts := c.ociremoteOptions(ctx)
	se, err := ociremote.SignedEntity(d, ropts...)
	if err != nil {
		return classify(err)
	}
	if !readableSignatures(se) {
		if se, err = empty.SignedImage(d); err != nil {
			return err
		}
	}
	newSE, err := mutate.AttachSignatureToEntity(se, sig, mutate.WithDupeDetector(cremote.NewDupeDetector(sv)))
	if err != nil {
		return err
	}
	if err := ociremote.WriteSignatures(d.Repository, newSE, ropts...); err != nil {
		return fmt.Errorf("writing signature: %w", classify(err))
	}
	return nil
}

// readableSignatures reports whether the signatures already stored for an
// entity can be read (at most maxSignatures of them): junk, or more than
// that, under the signature tag is replaced rather than appended to.
func readableSignatures(se coci.SignedEntity) bool {
	sigs, err := se.Signatures()
	if err != nil {
		return false
	}
	list, err := sigs.Get()
	if err != nil || len(list) > maxSignatures {
		return false
	}
	for _, s := range list {
		if size, err := s.Size(); err != nil || size > maxSignaturePayload {
			return false
		}
		if _, err := s.Payload(); err != nil {
			return false
		}
	}
	return true
}

// keylessSigner makes an ephemeral key and has Fulcio certify it for the
// identity of opts.IDToken.
func (c *Client) keylessSigner(opts SignOptions) (signature.SignerVerifier, []byte, []byte, error) {
	priv, err := cosign.GeneratePrivateKey()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ephemeral key: %w", err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ephemeral key: %w", err)
	}
	subject, err := tokenSubject(opts.IDToken)
	if err != nil {
		return nil, nil, nil, err
	}
	proof, err := sv.SignMessage(strings.NewReader(subject))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("proof of possession: %w", err)
	}
	pub, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, nil, nil, err
	}
	fu := opts.FulcioURL
	if fu == "" {
		fu = DefaultFulcioURL
	}
	u, err := url.Parse(fu)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fulcio URL: %w", err)
	}
	resp, err := fulcioapi.NewClient(u, fulcioapi.WithUserAgent(c.userAgent)).SigningCert(fulcioapi.CertificateRequest{
		PublicKey:          fulcioapi.Key{Content: pub},
		SignedEmailAddress: proof,
	}, opts.IDToken)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fulcio certificate: %w", err)
	}
	return sv, resp.CertPEM, resp.ChainPEM, nil
}

// tokenSubject is the identity Fulcio certifies for an OIDC token: its
// verified email, else its subject. The token is not verified here; Fulcio
// does that.
func tokenSubject(idToken string) (string, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return "", errors.New("identity token: not a JWT")
	}
	claims, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", fmt.Errorf("identity token: %w", err)
	}
	subject, err := oauthflow.SubjectFromUnverifiedToken(claims)
	if err != nil {
		return "", fmt.Errorf("identity token: %w", err)
	}
	return subject, nil
}

// tlogUpload records the signature in Rekor and returns the bundle to store
// with it.
func (c *Client) tlogUpload(ctx context.Context, opts SignOptions, sv signature.SignerVerifier, sig, pl, cert []byte) (*cbundle.RekorBundle, error) {
	pem := cert
	if pem == nil {
		pub, err := sv.PublicKey()
		if err != nil {
			return nil, err
		}
		if pem, err = cryptoutils.MarshalPublicKeyToPEM(pub); err != nil {
			return nil, err
		}
	}
	ru := opts.RekorURL
	if ru == "" {
		ru = DefaultRekorURL
	}
	rc, err := rekorclient.GetRekorClient(ru, rekorclient.WithUserAgent(c.userAgent))
	if err != nil {
		return nil, fmt.Errorf("rekor client: %w", err)
	}
	h := sha256.New()
	h.Write(pl)
	entry, err := cosign.TLogUpload(ctx, rc, sig, h, pem)
	if err != nil {
		return nil, fmt.Errorf("rekor upload: %w", err)
	}
	if entry == nil {
		return nil, errors.New("rekor upload: no log entry")
	}
	return cbundle.EntryToBundle(entry), nil
}

// SignatureTag is the tag cosign stores the signatures of dgst under
// (sha256-<hex>.sig, cosign's tag scheme).
func SignatureTag(dgst digest.Digest) string {
	return dgst.Algorithm().String() + "-" + dgst.Encoded() + ".sig"
}
