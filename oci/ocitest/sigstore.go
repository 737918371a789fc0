package ocitest

// Stand-ins for Sigstore on 127.0.0.1, for keyless signing and offline
// verification in tests: a certificate authority behind a Fulcio stand-in,
// a Rekor stand-in that returns SignedEntryTimestamps, and the trusted
// root naming them.

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
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/require"
)

// JWT makes an unsigned token with the given claims (only Fulcio checks
// signatures; the signer reads the identity from the claims).
func JWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	data, err := json.Marshal(claims)
	require.NoError(t, err)
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(data) + ".c2ln"
}

// CA is a certificate authority standing in for Fulcio's: a root and,
// optionally, an intermediate that issues the leaf certificates.
type CA struct {
	Root *x509.Certificate
	// Chain is what Fulcio returns after the leaf and a trusted root lists:
	// the issuing CA first, the root last.
	Chain []*x509.Certificate
	key   *ecdsa.PrivateKey // the issuing CA's
}

// NewCA makes a CA valid from a day ago for ten years.
func NewCA(t testing.TB, name string, intermediate bool) *CA {
	t.Helper()
	from := time.Now().Add(-24 * time.Hour).Truncate(time.Second) //nolint:forbidigo // certificates and logs are checked against the real clock
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " root", Organization: []string{"falcops tests"}},
		NotBefore: from, NotAfter: from.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	root, rootKey := newCACert(t, tmpl, nil, nil)
	ca := &CA{Root: root, Chain: []*x509.Certificate{root}, key: rootKey}
	if intermediate {
		tmpl.Subject.CommonName = name + " intermediate"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
		inter, interKey := newCACert(t, tmpl, root, rootKey)
		ca.Chain, ca.key = []*x509.Certificate{inter, root}, interKey
	}
	return ca
}

// newCACert makes a key and a CA certificate for it, signed by parent
// (self-signed if nil).
func newCACert(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
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

// FulcioOptions shape the certificates the Fulcio stand-in issues.
type FulcioOptions struct {
	Token string // the one bearer token accepted
	// Identity is the certificate's SAN: a URI if it has "://", else an
	// email address.
	Identity string
	// IssuerExt is "v1" or "v2" for only that issuer extension; empty
	// writes both, as Fulcio does.
	IssuerExt string
	// Age moves the ten-minute validity into the past.
	Age time.Duration
}

// Fulcio answers the Fulcio v1 signingCert API on 127.0.0.1 as
// Fulcio does: it accepts only its token, checks the proof of possession
// over the token's subject (its verified email, else sub), and certifies
// the key with ca for ten minutes, for opts.Identity and the token's iss.
func Fulcio(t testing.TB, ca *CA, opts FulcioOptions) string {
	t.Helper()
	var claims struct {
		Iss, Sub, Email string
		Verified        bool `json:"email_verified"`
	}
	parts := strings.Split(opts.Token, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &claims))
	subject := claims.Sub
	if claims.Email != "" && claims.Verified {
		subject = claims.Email
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/signingCert" || r.Header.Get("Authorization") != "Bearer "+opts.Token {
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
		for _, c := range ca.Chain {
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
func (ca *CA) issue(pub crypto.PublicKey, opts FulcioOptions, issuer string) ([]byte, error) {
	from := time.Now().Add(-opts.Age).Truncate(time.Second) //nolint:forbidigo // certificates and logs are checked against the real clock
	n, err := randomSerial()
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: n, NotBefore: from, NotAfter: from.Add(10 * time.Minute),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if u, err := url.Parse(opts.Identity); err == nil && strings.Contains(opts.Identity, "://") {
		leaf.URIs = []*url.URL{u}
	} else {
		leaf.EmailAddresses = []string{opts.Identity}
	}
	v2, err := asn1.MarshalWithParams(issuer, "utf8")
	if err != nil {
		return nil, err
	}
	if opts.IssuerExt != "v2" {
		leaf.ExtraExtensions = append(leaf.ExtraExtensions, pkix.Extension{Id: oidIssuerV1, Value: []byte(issuer)})
	}
	if opts.IssuerExt != "v1" {
		leaf.ExtraExtensions = append(leaf.ExtraExtensions, pkix.Extension{Id: oidIssuerV2, Value: v2})
	}
	return x509.CreateCertificate(rand.Reader, leaf, ca.Chain[0], pub, ca.key)
}

// Rekor answers the Rekor v1 upload (POST /api/v1/log/entries) that
// cosign.TLogUpload makes, on 127.0.0.1: it checks the hashedrekord entry's
// signature over the hash with the entry's key or certificate, as Rekor
// does, and returns the entry with a SignedEntryTimestamp. There is no
// Merkle tree: falcops' offline verification uses the SET only.
type Rekor struct {
	URL string
	// Key is the log's key: its public key is in the trusted root, and
	// LogID is the hex SHA-256 of its DER form.
	Key   *ecdsa.PrivateKey
	LogID string
	// setKey signs the SETs: key, or another one to forge them.
	setKey *ecdsa.PrivateKey
	// validFrom is when the log key became valid (for the trusted root).
	validFrom time.Time
	index     atomic.Int64
}

// NewRekor starts a log with a key of its own.
func NewRekor(t testing.TB) *Rekor {
	t.Helper()
	key := NewECKey(t)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	return (&Rekor{Key: key, LogID: hex.EncodeToString(sum[:]), setKey: key, validFrom: time.Now().Add(-time.Hour)}).start(t) //nolint:forbidigo // certificates and logs are checked against the real clock
}

// Forgery is another server posing as log r (same logID) whose SETs
// setKey signs.
func (r *Rekor) Forgery(t testing.TB, setKey *ecdsa.PrivateKey) *Rekor {
	t.Helper()
	return (&Rekor{Key: r.Key, LogID: r.LogID, setKey: setKey, validFrom: r.validFrom}).start(t)
}

func (r *Rekor) start(t testing.TB) *Rekor {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func NewECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return key
}

// hashedRekord is a hashedrekord v0.0.1 entry. Its fields are in sorted
// order, so that json.Marshal gives the canonical body Rekor stores.
type hashedRekord struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		Data struct {
			Hash struct {
				Algorithm string `json:"algorithm"`
				Value     string `json:"value"`
			} `json:"hash"`
		} `json:"data"`
		Signature struct {
			Content   []byte `json:"content"`
			PublicKey struct {
				Content []byte `json:"content"`
			} `json:"publicKey"`
		} `json:"signature"`
	} `json:"spec"`
}

// check verifies the entry's signature over its hash with its key, which
// is a PEM certificate (keyless) or public key.
func (e *hashedRekord) check() error {
	if e.Kind != "hashedrekord" || e.APIVersion != "0.0.1" || e.Spec.Data.Hash.Algorithm != "sha256" {
		return fmt.Errorf("unsupported entry %s %s %s", e.Kind, e.APIVersion, e.Spec.Data.Hash.Algorithm)
	}
	digest, err := hex.DecodeString(e.Spec.Data.Hash.Value)
	if err != nil || len(digest) != sha256.Size {
		return fmt.Errorf("hash %q", e.Spec.Data.Hash.Value)
	}
	var pub crypto.PublicKey
	if certs, err := cryptoutils.UnmarshalCertificatesFromPEM(e.Spec.Signature.PublicKey.Content); err == nil && len(certs) == 1 {
		pub = certs[0].PublicKey
	} else if pub, err = cryptoutils.UnmarshalPEMToPublicKey(e.Spec.Signature.PublicKey.Content); err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || !ecdsa.VerifyASN1(ec, digest, e.Spec.Signature.Content) {
		return errors.New("the signature does not verify with the entry's key")
	}
	return nil
}

// setPayload is what a SignedEntryTimestamp signs. Sorted keys, integers
// and base64 and hex strings (nothing to escape): json.Marshal gives the
// canonical JSON (RFC 8785) verifiers rebuild.
type setPayload struct {
	Body           string `json:"body"`
	IntegratedTime int64  `json:"integratedTime"`
	LogID          string `json:"logID"`
	LogIndex       int64  `json:"logIndex"`
}

func (r *Rekor) serve(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/api/v1/log/entries" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var e hashedRekord
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := e.check(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, _ := json.Marshal(e)
	p := setPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: time.Now().Unix(), LogID: r.LogID, LogIndex: r.index.Add(1) - 1} //nolint:forbidigo // the log integrates at the real time
	signed, _ := json.Marshal(p)
	sum := sha256.Sum256(signed)
	set, err := ecdsa.SignASN1(rand.Reader, r.setKey, sum[:])
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	uuid := sha256.Sum256(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", r.URL+"/api/v1/log/entries/"+hex.EncodeToString(uuid[:]))
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{hex.EncodeToString(uuid[:]): map[string]any{
		"body": p.Body, "integratedTime": p.IntegratedTime, "logID": p.LogID, "logIndex": p.LogIndex,
		"verification": map[string]any{"signedEntryTimestamp": set},
	}})
}

// TrustedRootFile writes a Sigstore trusted_root.json trusting the CAs and
// the logs, and the CT log keys if any, and returns its path.
func TrustedRootFile(t testing.TB, cas []*CA, logs []*Rekor, ctKeys ...*ecdsa.PublicKey) string {
	t.Helper()
	var authorities []root.CertificateAuthority
	for _, ca := range cas {
		authorities = append(authorities, &root.FulcioCertificateAuthority{
			Root: ca.Root, Intermediates: ca.Chain[:len(ca.Chain)-1],
			ValidityPeriodStart: ca.Root.NotBefore, URI: "https://fulcio.test",
		})
	}
	tlogs := map[string]*root.TransparencyLog{}
	for _, l := range logs {
		tlogs[l.LogID] = transparencyLog(t, &l.Key.PublicKey, l.validFrom, l.URL)
	}
	ctlogs := map[string]*root.TransparencyLog{}
	for _, k := range ctKeys {
		tl := transparencyLog(t, k, time.Now().Add(-time.Hour), "https://ctlog.test") //nolint:forbidigo // the log integrates at the real time
		ctlogs[hex.EncodeToString(tl.ID)] = tl
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, authorities, ctlogs, nil, tlogs)
	require.NoError(t, err)
	data, err := tr.MarshalJSON()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "trusted_root.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

func transparencyLog(t testing.TB, pub *ecdsa.PublicKey, from time.Time, baseURL string) *root.TransparencyLog {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	id := sha256.Sum256(der)
	return &root.TransparencyLog{
		BaseURL: baseURL, ID: id[:], ValidityPeriodStart: from,
		HashFunc: crypto.SHA256, PublicKey: pub, SignatureHashFunc: crypto.SHA256,
	}
}
