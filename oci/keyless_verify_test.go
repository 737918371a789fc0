package oci

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/cosign/v2/pkg/oci/empty"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci/ocitest"
)

const (
	testIssuer   = "https://issuer.example"
	testIdentity = "ci@example.com"
)

// keylessEnv is a registry with a published artifact, a CA (with an
// intermediate) behind a Fulcio stand-in, a Rekor stand-in, and a trusted
// root naming both. Nothing leaves 127.0.0.1.
type keylessEnv struct {
	ctx       context.Context
	c         *Client
	repo      string
	a         *artifacts.Artifact
	token     string
	ca        *ocitest.CA
	fulcioURL string
	rekor     *ocitest.Rekor
	root      string // trusted_root.json
}

func newKeylessEnv(t *testing.T) *keylessEnv {
	t.Helper()
	e := &keylessEnv{ctx: testContext(t), c: newTestClient(t, nil, Options{}), a: heartbeat(t, "1.0.0", "")}
	e.repo = startRegistry(t, nil) + "/falcops/heartbeat"
	_, err := e.c.Publish(e.ctx, e.repo, e.a, "1.0.0")
	require.NoError(t, err)
	e.token = ocitest.JWT(t, map[string]any{"iss": testIssuer, "sub": "user-1", "email": testIdentity, "email_verified": true})
	e.ca = ocitest.NewCA(t, "fulcio", true)
	e.fulcioURL = ocitest.Fulcio(t, e.ca, ocitest.FulcioOptions{Token: e.token, Identity: testIdentity})
	e.rekor = ocitest.NewRekor(t)
	e.root = ocitest.TrustedRootFile(t, []*ocitest.CA{e.ca}, []*ocitest.Rekor{e.rekor})
	return e
}

func (e *keylessEnv) ref() string { return e.repo + "@" + e.a.ManifestDigest.String() }

// sign signs keylessly through Client.Sign with the stand-ins given.
func (e *keylessEnv) sign(t *testing.T, fulcioURL, rekorURL string) {
	t.Helper()
	require.NoError(t, e.c.Sign(e.ctx, e.ref(), SignOptions{IDToken: e.token, TlogUpload: true, FulcioURL: fulcioURL, RekorURL: rekorURL}))
}

// verify verifies with the trusted root and, unless opts sets them, the
// test identity and issuer.
func (e *keylessEnv) verify(ref string, opts VerifyOptions) (Verified, error) {
	if opts.TrustedRootFile == "" && !opts.TrustedRootTUF {
		opts.TrustedRootFile = e.root
	}
	if opts.CertIdentity == "" && opts.CertIdentityRegexp == "" {
		opts.CertIdentity = testIdentity
	}
	if opts.CertOIDCIssuer == "" && opts.CertOIDCIssuerRegexp == "" {
		opts.CertOIDCIssuer = testIssuer
	}
	return e.c.Verify(e.ctx, ref, opts)
}

// TestKeylessSignVerify: Client.Sign with an identity token and the log
// stores a certificate, its chain and a Rekor bundle with the signature;
// it verifies offline for the identity and issuer, exact or by regexp.
func TestKeylessSignVerify(t *testing.T) {
	e := newKeylessEnv(t)
	e.sign(t, e.fulcioURL, e.rekor.URL)

	layers := signatureLayers(t, &signEnv{ctx: e.ctx, c: e.c}, e.repo+":"+SignatureTag(e.a.ManifestDigest))
	require.Len(t, layers, 1)
	for _, k := range []string{"dev.cosignproject.cosign/signature", "dev.sigstore.cosign/certificate", "dev.sigstore.cosign/chain", "dev.sigstore.cosign/bundle"} {
		assert.NotEmpty(t, layers[0].Annotations[k], k)
	}
	var bundle struct {
		Payload struct {
			LogID string `json:"logID"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(layers[0].Annotations["dev.sigstore.cosign/bundle"]), &bundle))
	assert.Equal(t, e.rekor.LogID, bundle.Payload.LogID)

	cases := map[string]VerifyOptions{
		"exact":           {},
		"identity regexp": {CertIdentityRegexp: `ci@example\.(com|org)`},
		"issuer regexp":   {CertOIDCIssuerRegexp: `https://issuer\.example`},
		"both regexps":    {CertIdentityRegexp: `.*@example\.com`, CertOIDCIssuerRegexp: `https://.*`},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			for _, ref := range []string{e.ref(), e.repo + ":1.0.0"} {
				got, err := e.verify(ref, opts)
				require.NoError(t, err, ref)
				assert.Equal(t, e.a.ManifestDigest, got.Digest)
				assert.Equal(t, "heartbeat", got.Name)
				assert.Equal(t, "1.0.0", got.Version)
			}
		})
	}
}

// TestKeylessVerifyURIIdentity: a CI identity (a workflow URI, as GitHub
// Actions tokens give) matched by a regexp.
func TestKeylessVerifyURIIdentity(t *testing.T) {
	const workflow = "https://github.com/falcops/falcops/.github/workflows/release.yml@refs/heads/main"
	e := newKeylessEnv(t)
	e.token = ocitest.JWT(t, map[string]any{"iss": "https://token.actions.githubusercontent.com", "sub": "repo:falcops/falcops:ref:refs/heads/main"})
	e.sign(t, ocitest.Fulcio(t, e.ca, ocitest.FulcioOptions{Token: e.token, Identity: workflow}), e.rekor.URL)
	_, err := e.verify(e.ref(), VerifyOptions{
		CertIdentityRegexp: `https://github\.com/falcops/falcops/\.github/workflows/[^/]+@refs/heads/main`,
		CertOIDCIssuer:     "https://token.actions.githubusercontent.com",
	})
	require.NoError(t, err)
	_, err = e.verify(e.ref(), VerifyOptions{CertIdentity: workflow})
	wantKeylessRefusal(t, err, "certificate OIDC issuer", `"https://token.actions.githubusercontent.com"`)
}

// TestKeylessVerifyRefusals: the identity and the issuer must match; a
// regexp must match all of the value.
func TestKeylessVerifyRefusals(t *testing.T) {
	e := newKeylessEnv(t)
	e.sign(t, e.fulcioURL, e.rekor.URL)
	cases := map[string]struct {
		opts VerifyOptions
		why  []string
	}{
		"wrong identity":        {VerifyOptions{CertIdentity: "other@example.com"}, []string{"certificate identity", `["ci@example.com"]`, `"other@example.com"`}},
		"identity regexp":       {VerifyOptions{CertIdentityRegexp: `.*@example\.org`}, []string{"certificate identity", `one matching ^(?:.*@example\.org)$`}},
		"identity regexp, part": {VerifyOptions{CertIdentityRegexp: `ci@example`}, []string{"certificate identity"}},
		"wrong issuer":          {VerifyOptions{CertOIDCIssuer: "https://other.example"}, []string{"certificate OIDC issuer", `"https://issuer.example"`, `"https://other.example"`}},
		"issuer regexp":         {VerifyOptions{CertOIDCIssuerRegexp: `https://other\..*`}, []string{"certificate OIDC issuer"}},
		"issuer regexp, part":   {VerifyOptions{CertOIDCIssuerRegexp: `issuer\.example`}, []string{"certificate OIDC issuer"}},
		"identity is no issuer": {VerifyOptions{CertOIDCIssuer: testIdentity}, []string{"certificate OIDC issuer"}},
		"issuer is no identity": {VerifyOptions{CertIdentity: testIssuer}, []string{"certificate identity"}},
		"claims":                {VerifyOptions{Annotations: map[string]string{"ruleset": "x"}}, []string{"claims something else", "ruleset"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.verify(e.ref(), tc.opts)
			wantKeylessRefusal(t, err, tc.why...)
		})
	}
}

// TestKeylessVerifyUntrustedSigning: signatures whose certificate or log
// bundle the trusted root does not vouch for are refused, and the error
// says which check failed.
func TestKeylessVerifyUntrustedSigning(t *testing.T) {
	cases := map[string]struct {
		sign func(t *testing.T, e *keylessEnv)
		why  []string
	}{
		"certificate of another CA": {func(t *testing.T, e *keylessEnv) {
			e.sign(t, ocitest.Fulcio(t, ocitest.NewCA(t, "other", false), ocitest.FulcioOptions{Token: e.token, Identity: testIdentity}), e.rekor.URL)
		}, []string{"certificate authority", "other root", "trusted root"}},
		"bundle of another log": {func(t *testing.T, e *keylessEnv) {
			e.sign(t, e.fulcioURL, ocitest.NewRekor(t).URL)
		}, []string{"transparency log bundle", "public key not found"}},
		"bundle with a forged SET": {func(t *testing.T, e *keylessEnv) {
			e.sign(t, e.fulcioURL, e.rekor.Forgery(t, ocitest.NewECKey(t)).URL)
		}, []string{"transparency log bundle", "unable to verify SET"}},
		"certificate expired before the log entry": {func(t *testing.T, e *keylessEnv) {
			e.sign(t, ocitest.Fulcio(t, e.ca, ocitest.FulcioOptions{Token: e.token, Identity: testIdentity, Age: 20 * time.Minute}), e.rekor.URL)
		}, []string{"certificate validity at the log's integration time", "expired"}},
		"issuer in the v2 extension only": {func(t *testing.T, e *keylessEnv) {
			e.sign(t, ocitest.Fulcio(t, e.ca, ocitest.FulcioOptions{Token: e.token, Identity: testIdentity, IssuerExt: "v2"}), e.rekor.URL)
		}, []string{"certificate OIDC issuer", "no issuer extension 1.3.6.1.4.1.57264.1.1"}},
		"no bundle": {func(t *testing.T, e *keylessEnv) {
			e.sign(t, e.fulcioURL, e.rekor.URL)
			e.storeWithoutBundle(t)
		}, []string{"transparency log bundle", "none is stored"}},
		"signed with a key": {func(t *testing.T, e *keylessEnv) {
			sv, err := signature.LoadECDSASignerVerifier(ocitest.NewECKey(t), crypto.SHA256)
			require.NoError(t, err)
			require.NoError(t, e.c.Sign(e.ctx, e.ref(), SignOptions{Signer: sv}))
		}, []string{"no certificate"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newKeylessEnv(t)
			tc.sign(t, e)
			_, err := e.verify(e.ref(), VerifyOptions{})
			wantKeylessRefusal(t, err, tc.why...)
		})
	}
}

// TestKeylessVerifySCT: a trusted root naming a certificate-transparency
// log requires the certificate to carry an SCT, which a private CA does
// not issue.
func TestKeylessVerifySCT(t *testing.T) {
	e := newKeylessEnv(t)
	e.sign(t, e.fulcioURL, e.rekor.URL)
	withCT := ocitest.TrustedRootFile(t, []*ocitest.CA{e.ca}, []*ocitest.Rekor{e.rekor}, &ocitest.NewECKey(t).PublicKey)
	_, err := e.verify(e.ref(), VerifyOptions{TrustedRootFile: withCT})
	wantKeylessRefusal(t, err, "certificate transparency", "no SCT")
}

// storeWithoutBundle replaces the one stored signature by a copy without
// its Rekor bundle.
func (e *keylessEnv) storeWithoutBundle(t *testing.T) {
	t.Helper()
	d, err := name.NewDigest(e.ref(), e.c.nameOptions()...)
	require.NoError(t, err)
	ropts := e.c.ociremoteOptions(e.ctx)
	se, err := ociremote.SignedEntity(d, ropts...)
	require.NoError(t, err)
	sigs, err := se.Signatures()
	require.NoError(t, err)
	list, err := sigs.Get()
	require.NoError(t, err)
	require.Len(t, list, 1)
	pl, err := list[0].Payload()
	require.NoError(t, err)
	b64, err := list[0].Base64Signature()
	require.NoError(t, err)
	ann, err := list[0].Annotations()
	require.NoError(t, err)
	sig, err := static.NewSignature(pl, b64, static.WithCertChain([]byte(ann["dev.sigstore.cosign/certificate"]), []byte(ann["dev.sigstore.cosign/chain"])))
	require.NoError(t, err)
	img, err := empty.SignedImage(d)
	require.NoError(t, err)
	next, err := mutate.AttachSignatureToEntity(img, sig)
	require.NoError(t, err)
	require.NoError(t, ociremote.WriteSignatures(d.Repository, next, ropts...))
}

// TestKeylessVerifyOptions: options that cannot verify anything are the
// caller's error, not a refused artifact (no ErrSignature), and name the
// option; nothing is fetched online.
func TestKeylessVerifyOptions(t *testing.T) {
	e := newKeylessEnv(t)
	e.sign(t, e.fulcioURL, e.rekor.URL)
	garbage := filepath.Join(t.TempDir(), "garbage.json")
	require.NoError(t, os.WriteFile(garbage, []byte(`{"mediaType": "nonsense"}`), 0o600))
	noLog := ocitest.TrustedRootFile(t, []*ocitest.CA{e.ca}, nil)
	id := func(o VerifyOptions) VerifyOptions {
		if o.CertIdentity == "" && o.CertIdentityRegexp == "" {
			o.CertIdentity = testIdentity
		}
		if o.CertOIDCIssuer == "" && o.CertOIDCIssuerRegexp == "" {
			o.CertOIDCIssuer = testIssuer
		}
		return o
	}
	cases := map[string]struct {
		opts VerifyOptions
		why  string
	}{
		"no trusted root":           {id(VerifyOptions{}), "needs TrustedRootFile"},
		"file and TUF":              {id(VerifyOptions{TrustedRootFile: e.root, TrustedRootTUF: true}), "TrustedRootFile and TrustedRootTUF are both set"},
		"missing file":              {id(VerifyOptions{TrustedRootFile: filepath.Join(t.TempDir(), "none.json")}), "TrustedRootFile"},
		"not a trusted root":        {id(VerifyOptions{TrustedRootFile: garbage}), "TrustedRootFile " + garbage},
		"trusted root without tlog": {id(VerifyOptions{TrustedRootFile: noLog}), "names no transparency log"},
		"no identity":               {VerifyOptions{CertOIDCIssuer: testIssuer, TrustedRootFile: e.root}, "needs CertIdentity or CertIdentityRegexp"},
		"no issuer":                 {VerifyOptions{CertIdentity: testIdentity, TrustedRootFile: e.root}, "needs CertOIDCIssuer or CertOIDCIssuerRegexp"},
		"identity twice":            {id(VerifyOptions{CertIdentity: testIdentity, CertIdentityRegexp: ".*", TrustedRootFile: e.root}), "CertIdentity and CertIdentityRegexp are both set"},
		"issuer twice":              {id(VerifyOptions{CertOIDCIssuer: testIssuer, CertOIDCIssuerRegexp: ".*", TrustedRootFile: e.root}), "CertOIDCIssuer and CertOIDCIssuerRegexp are both set"},
		"bad identity regexp":       {id(VerifyOptions{CertIdentityRegexp: "(", TrustedRootFile: e.root}), "CertIdentityRegexp"},
		"bad issuer regexp":         {id(VerifyOptions{CertOIDCIssuerRegexp: "(", TrustedRootFile: e.root}), "CertOIDCIssuerRegexp"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.c.Verify(e.ctx, e.ref(), tc.opts)
			require.Error(t, err)
			assert.False(t, errors.Is(err, ErrSignature), "%v is ErrSignature", err)
			assert.Contains(t, err.Error(), tc.why)
		})
	}
}

// wantKeylessRefusal checks err is ErrSignature and says why.
func wantKeylessRefusal(t *testing.T, err error, why ...string) {
	t.Helper()
	require.ErrorIs(t, err, ErrSignature)
	t.Logf("refused: %v", err)
	for _, w := range why {
		assert.Contains(t, err.Error(), w)
	}
}
