package oci

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// jwt makes an unsigned token with the given claims (only Fulcio checks
// signatures; the signer reads the identity from the claims).
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	data, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(data) + ".c2ln"
}

// fulcioStandIn answers the Fulcio v1 signingCert API on 127.0.0.1: it
// checks the bearer token and the proof of possession over the identity,
// and certifies the key with a test CA.
func fulcioStandIn(t *testing.T, token, identity string) string {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	notBefore := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "falcops test CA"},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/signingCert" || r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "bad request", http.StatusUnauthorized)
			return
		}
		var req struct {
			PublicKey struct {
				Content []byte `json:"content"`
			} `json:"publicKey"`
			SignedEmailAddress []byte `json:"signedEmailAddress"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(req.PublicKey.Content)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		sum := sha256.Sum256([]byte(identity))
		if !ok || !ecdsa.VerifyASN1(ec, sum[:], req.SignedEmailAddress) {
			http.Error(w, "no proof of possession for "+identity, http.StatusBadRequest)
			return
		}
		leaf := &x509.Certificate{
			SerialNumber: big.NewInt(2), NotBefore: notBefore, NotAfter: notAfter,
			EmailAddresses: []string{identity}, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		}
		der, err := x509.CreateCertificate(rand.Reader, leaf, caTmpl, ec, caKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		w.WriteHeader(http.StatusCreated)
		_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: der})
		_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestKeylessSigner covers the Fulcio leg of keyless signing against a
// stand-in on 127.0.0.1: the ephemeral key is certified for the token's
// verified email, and the certificate carries that key. (The Rekor upload
// and keyless verification need the public Sigstore services.)
func TestKeylessSigner(t *testing.T) {
	const identity = "ci@example.com"
	token := jwt(t, map[string]any{"iss": "https://issuer.example", "sub": "repo:falcops/falcops", "email": identity, "email_verified": true})
	url := fulcioStandIn(t, token, identity)
	c := newTestClient(t, nil, Options{})
	sv, certPEM, chainPEM, err := c.keylessSigner(SignOptions{IDToken: token, FulcioURL: url})
	if err != nil {
		t.Fatal(err)
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(certPEM)
	if err != nil || len(certs) != 1 {
		t.Fatalf("certificate: %v (%d)", err, len(certs))
	}
	pub, err := sv.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := cryptoutils.EqualKeys(pub, certs[0].PublicKey); err != nil {
		t.Fatalf("certificate is not for the signing key: %v", err)
	}
	if len(certs[0].EmailAddresses) != 1 || certs[0].EmailAddresses[0] != identity {
		t.Fatalf("certificate identity %v", certs[0].EmailAddresses)
	}
	if chain, err := cryptoutils.UnmarshalCertificatesFromPEM(chainPEM); err != nil || len(chain) != 1 {
		t.Fatalf("chain: %v (%d)", err, len(chain))
	}

	// An unverified email is not an identity; a bad token is refused by
	// Fulcio.
	if _, _, _, err := c.keylessSigner(SignOptions{IDToken: jwt(t, map[string]any{"email": identity}), FulcioURL: url}); err == nil {
		t.Error("unverified email: no error")
	}
	other := jwt(t, map[string]any{"email": identity, "email_verified": true, "iss": "x"})
	if _, _, _, err := c.keylessSigner(SignOptions{IDToken: other, FulcioURL: url}); err == nil {
		t.Error("token Fulcio refuses: no error")
	}
	if _, _, _, err := c.keylessSigner(SignOptions{IDToken: "not-a-jwt", FulcioURL: url}); err == nil {
		t.Error("not a JWT: no error")
	}
}
