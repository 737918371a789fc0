package oci

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/require"
)

// rekorStandIn answers the Rekor v1 upload (POST /api/v1/log/entries) that
// cosign.TLogUpload makes, on 127.0.0.1: it checks the hashedrekord entry's
// signature over the hash with the entry's key or certificate, as Rekor
// does, and returns the entry with a SignedEntryTimestamp. There is no
// Merkle tree: falcops' offline verification uses the SET only.
type rekorStandIn struct {
	url string
	// key is the log's key: its public key is in the trusted root, and
	// logID is the hex SHA-256 of its DER form.
	key   *ecdsa.PrivateKey
	logID string
	// setKey signs the SETs: key, or another one to forge them.
	setKey *ecdsa.PrivateKey
	// validFrom is when the log key became valid (for the trusted root).
	validFrom time.Time
	index     atomic.Int64
}

// newRekorStandIn starts a log with a key of its own.
func newRekorStandIn(t *testing.T) *rekorStandIn {
	t.Helper()
	key := newECKey(t)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	sum := sha256.Sum256(der)
	return (&rekorStandIn{key: key, logID: hex.EncodeToString(sum[:]), setKey: key, validFrom: time.Now().Add(-time.Hour)}).start(t)
}

// forgery is another server posing as log r (same logID) whose SETs
// setKey signs.
func (r *rekorStandIn) forgery(t *testing.T, setKey *ecdsa.PrivateKey) *rekorStandIn {
	t.Helper()
	return (&rekorStandIn{key: r.key, logID: r.logID, setKey: setKey, validFrom: r.validFrom}).start(t)
}

func (r *rekorStandIn) start(t *testing.T) *rekorStandIn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
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

func (r *rekorStandIn) serve(w http.ResponseWriter, req *http.Request) {
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
	p := setPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: time.Now().Unix(), LogID: r.logID, LogIndex: r.index.Add(1) - 1}
	signed, _ := json.Marshal(p)
	sum := sha256.Sum256(signed)
	set, err := ecdsa.SignASN1(rand.Reader, r.setKey, sum[:])
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	uuid := sha256.Sum256(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Location", r.url+"/api/v1/log/entries/"+hex.EncodeToString(uuid[:]))
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{hex.EncodeToString(uuid[:]): map[string]any{
		"body": p.Body, "integratedTime": p.IntegratedTime, "logID": p.LogID, "logIndex": p.LogIndex,
		"verification": map[string]any{"signedEntryTimestamp": set},
	}})
}

// trustedRootFile writes a Sigstore trusted_root.json trusting the CAs and
// the logs, and the CT log keys if any, and returns its path.
func trustedRootFile(t *testing.T, cas []*testCA, logs []*rekorStandIn, ctKeys ...*ecdsa.PublicKey) string {
	t.Helper()
	var authorities []root.CertificateAuthority
	for _, ca := range cas {
		authorities = append(authorities, &root.FulcioCertificateAuthority{
			Root: ca.root, Intermediates: ca.chain[:len(ca.chain)-1],
			ValidityPeriodStart: ca.root.NotBefore, URI: "https://fulcio.test",
		})
	}
	tlogs := map[string]*root.TransparencyLog{}
	for _, l := range logs {
		tlogs[l.logID] = transparencyLog(t, &l.key.PublicKey, l.validFrom, l.url)
	}
	ctlogs := map[string]*root.TransparencyLog{}
	for _, k := range ctKeys {
		tl := transparencyLog(t, k, time.Now().Add(-time.Hour), "https://ctlog.test")
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

func transparencyLog(t *testing.T, pub *ecdsa.PublicKey, from time.Time, baseURL string) *root.TransparencyLog {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	id := sha256.Sum256(der)
	return &root.TransparencyLog{
		BaseURL: baseURL, ID: id[:], ValidityPeriodStart: from,
		HashFunc: crypto.SHA256, PublicKey: pub, SignatureHashFunc: crypto.SHA256,
	}
}
