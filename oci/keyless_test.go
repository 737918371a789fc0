package oci

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jwt makes an unsigned token with the given claims (only Fulcio checks
// signatures; the signer reads the identity from the claims).
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	data, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(data) + ".c2ln"
}

// testCA is a certificate authority standing in for Fulcio's: a root and,
// optionally, an intermediate that issues the leaf certificates.
type testCA struct {
	root *x509.Certificate
	// chain is what Fulcio returns after the leaf and a trusted root lists:
	// the issuing CA first, the root last.
	chain []*x509.Certificate
	key   *ecdsa.PrivateKey // the issuing CA's
}

// newTestCA makes a CA valid from a day ago for ten years.
func newTestCA(t *testing.T, name string, intermediate bool) *testCA {
	t.Helper()
	from := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " root", Organization: []string{"falcops tests"}},
		NotBefore: from, NotAfter: from.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	root, rootKey := newCACert(t, tmpl, nil, nil)
	ca := &testCA{root: root, chain: []*x509.Certificate{root}, key: rootKey}
	if intermediate {
		tmpl.Subject.CommonName = name + " intermediate"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
		inter, interKey := newCACert(t, tmpl, root, rootKey)
		ca.chain, ca.key = []*x509.Certificate{inter, root}, interKey
	}
	return ca
}

// newCACert makes a key and a CA certificate for it, signed by parent
// (self-signed if nil).
func newCACert(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber, err = randomSerial()
	require.NoError(t, err)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// Fulcio's OIDC issuer extensions: v1 holds the raw string, v2 (which
// replaces it) a DER UTF8String.
var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
)

// fulcioOptions shape the certificates the Fulcio stand-in issues.
type fulcioOptions struct {
	token string // the one bearer token accepted
	// identity is the certificate's SAN: a URI if it has "://", else an
	// email address.
	identity string
	// issuerExt is "v1" or "v2" for only that issuer extension; empty
	// writes both, as Fulcio does.
	issuerExt string
	// age moves the ten-minute validity into the past.
	age time.Duration
}

// fulcioStandIn answers the Fulcio v1 signingCert API on 127.0.0.1 as
// Fulcio does: it accepts only its token, checks the proof of possession
// over the token's subject (its verified email, else sub), and certifies
// the key with ca for ten minutes, for opts.identity and the token's iss.
func fulcioStandIn(t *testing.T, ca *testCA, opts fulcioOptions) string {
	t.Helper()
	var claims struct {
		Iss, Sub, Email string
		Verified        bool `json:"email_verified"`
	}
	parts := strings.Split(opts.token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &claims))
	subject := claims.Sub
	if claims.Email != "" && claims.Verified {
		subject = claims.Email
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/signingCert" || r.Header.Get("Authorization") != "Bearer "+opts.token {
			http.Error(w, "bad request", http.StatusUnauthorized)
			return
		}
		pub, proof, err := readCertificateRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256([]byte(subject))
		if !ecdsa.VerifyASN1(pub, sum[:], proof) {
			http.Error(w, "no proof of possession for "+subject, http.StatusBadRequest)
			return
		}
		der, err := ca.issue(pub, opts, claims.Iss)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.WriteHeader(http.StatusCreated)
		_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der})
		for _, c := range ca.chain {
			_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// readCertificateRequest reads the public key and the proof of possession
// of a signingCert request.
func readCertificateRequest(r *http.Request) (*ecdsa.PublicKey, []byte, error) {
	var req struct {
		PublicKey struct {
			Content []byte `json:"content"`
		} `json:"publicKey"`
		SignedEmailAddress []byte `json:"signedEmailAddress"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&req); err != nil {
		return nil, nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(req.PublicKey.Content)
	if err != nil {
		return nil, nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, nil, errors.New("not an ECDSA key")
	}
	return ec, req.SignedEmailAddress, nil
}

// issue certifies pub for a code-signing leaf like Fulcio's: no subject,
// the identity as SAN, the OIDC issuer in its extensions.
func (ca *testCA) issue(pub crypto.PublicKey, opts fulcioOptions, issuer string) ([]byte, error) {
	from := time.Now().Add(-opts.age).Truncate(time.Second)
	n, err := randomSerial()
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: n, NotBefore: from, NotAfter: from.Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if u, err := url.Parse(opts.identity); err == nil && strings.Contains(opts.identity, "://") {
		leaf.URIs = []*url.URL{u}
	} else {
		leaf.EmailAddresses = []string{opts.identity}
	}
	v2, err := asn1.MarshalWithParams(issuer, "utf8")
	if err != nil {
		return nil, err
	}
	if opts.issuerExt != "v2" {
		leaf.ExtraExtensions = append(leaf.ExtraExtensions, pkix.Extension{Id: oidIssuerV1, Value: []byte(issuer)})
	}
	if opts.issuerExt != "v1" {
		leaf.ExtraExtensions = append(leaf.ExtraExtensions, pkix.Extension{Id: oidIssuerV2, Value: v2})
	}
	return x509.CreateCertificate(rand.Reader, leaf, ca.chain[0], pub, ca.key)
}

// TestKeylessSigner covers the Fulcio leg of keyless signing against the
// stand-in: the ephemeral key is certified for the token's verified email
// and issuer, with the CA's chain.
func TestKeylessSigner(t *testing.T) {
	const identity = "ci@example.com"
	token := jwt(t, map[string]any{"iss": "https://issuer.example", "sub": "repo:falcops/falcops", "email": identity, "email_verified": true})
	ca := newTestCA(t, "signer", true)
	fulcioURL := fulcioStandIn(t, ca, fulcioOptions{token: token, identity: identity})
	c := newTestClient(t, nil, Options{})
	sv, certPEM, chainPEM, err := c.keylessSigner(SignOptions{IDToken: token, FulcioURL: fulcioURL})
	require.NoError(t, err)
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(certPEM)
	require.NoError(t, err)
	require.Len(t, certs, 1)
	pub, err := sv.PublicKey()
	require.NoError(t, err)
	require.NoError(t, cryptoutils.EqualKeys(pub, certs[0].PublicKey), "certificate is not for the signing key")
	assert.Equal(t, []string{identity}, certs[0].EmailAddresses)
	_, err = certs[0].Verify(x509.VerifyOptions{
		Roots: poolOf(ca.root), Intermediates: poolOf(ca.chain[0]), CurrentTime: certs[0].NotBefore,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	require.NoError(t, err, "the leaf chains to the CA")
	chain, err := cryptoutils.UnmarshalCertificatesFromPEM(chainPEM)
	require.NoError(t, err)
	assert.Len(t, chain, 2, "intermediate and root")

	// An unverified email is not an identity; a bad token is refused by
	// Fulcio.
	_, _, _, err = c.keylessSigner(SignOptions{IDToken: jwt(t, map[string]any{"email": identity}), FulcioURL: fulcioURL})
	require.Error(t, err, "unverified email")
	other := jwt(t, map[string]any{"email": identity, "email_verified": true, "iss": "x"})
	_, _, _, err = c.keylessSigner(SignOptions{IDToken: other, FulcioURL: fulcioURL})
	require.Error(t, err, "token Fulcio refuses")
	_, _, _, err = c.keylessSigner(SignOptions{IDToken: "not-a-jwt", FulcioURL: fulcioURL})
	require.Error(t, err, "not a JWT")
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
