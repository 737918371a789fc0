package oci

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/cosign/v2/pkg/cosign"

	"github.com/falcops/falcops/artifacts"
)

const testPassword = "correct horse"

// signEnv is a registry with a published artifact and a key pair.
type signEnv struct {
	ctx       context.Context
	c         *Client
	repo      string
	a         *artifacts.Artifact
	priv, pub string
}

func (e *signEnv) ref(a *artifacts.Artifact) string { return e.repo + "@" + a.ManifestDigest.String() }

func password() ([]byte, error) { return []byte(testPassword), nil }

func newSignEnv(t *testing.T) *signEnv {
	t.Helper()
	e := &signEnv{ctx: testContext(t)}
	host := startRegistry(t, nil)
	e.repo = host + "/falcops/heartbeat"
	e.c = newTestClient(t, nil, Options{})
	e.a = heartbeat(t, "1.0.0", "")
	if _, err := e.c.Publish(e.ctx, e.repo, e.a, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	var err error
	e.priv, e.pub, err = GenerateKeyPair(t.TempDir(), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *signEnv) sign(t *testing.T, a *artifacts.Artifact) {
	t.Helper()
	if err := e.c.Sign(e.ctx, e.ref(a), SignOptions{KeyRef: e.priv, Password: password}); err != nil {
		t.Fatal(err)
	}
}

// wantSignatureError checks err is ErrSignature and its message says why.
func wantSignatureError(t *testing.T, err error, why ...string) {
	t.Helper()
	if !errors.Is(err, ErrSignature) {
		t.Fatalf("error %v, want ErrSignature", err)
	}
	t.Logf("refused: %v", err)
	for _, w := range why {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

// TestSignVerify: a signature made here verifies by tag and by digest,
// lives at the cosign tag, and signing again adds no duplicate.
func TestSignVerify(t *testing.T) {
	e := newSignEnv(t)
	e.sign(t, e.a)
	for _, ref := range []string{e.repo + ":1.0.0", e.repo + ":latest", e.ref(e.a), e.repo + ":1.0.0@" + e.a.ManifestDigest.String()} {
		got, err := e.c.Verify(e.ctx, ref, VerifyOptions{KeyRef: e.pub})
		if err != nil {
			t.Fatalf("verify %s: %v", ref, err)
		}
		if got.Digest != e.a.ManifestDigest || got.Name != "heartbeat" || got.Version != "1.0.0" {
			t.Fatalf("verify %s: %+v, want heartbeat 1.0.0 %s", ref, got, e.a.ManifestDigest)
		}
	}
	if _, err := e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: e.pub, ExpectedDigest: e.a.ManifestDigest}); err != nil {
		t.Fatal(err)
	}

	// Legacy layout: one simple-signing layer under sha256-<hex>.sig whose
	// payload claims the digest.
	sigRef := e.repo + ":" + SignatureTag(e.a.ManifestDigest)
	if !strings.HasSuffix(sigRef, ":sha256-"+e.a.ManifestDigest.Encoded()+".sig") {
		t.Fatalf("signature tag %s", sigRef)
	}
	layers := signatureLayers(t, e, sigRef)
	if len(layers) != 1 {
		t.Fatalf("%d signature layers, want 1", len(layers))
	}
	if layers[0].MediaType != "application/vnd.dev.cosign.simplesigning.v1+json" || layers[0].Annotations["dev.cosignproject.cosign/signature"] == "" {
		t.Fatalf("signature layer %+v", layers[0])
	}
	payload, err := e.c.FetchBlob(e.ctx, e.repo, layers[0])
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Critical struct {
			Identity struct {
				DockerReference string `json:"docker-reference"`
			} `json:"identity"`
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Critical.Image.Digest != e.a.ManifestDigest.String() || p.Critical.Type != "cosign container image signature" {
		t.Fatalf("payload %s", payload)
	}

	e.sign(t, e.a)
	if n := len(signatureLayers(t, e, sigRef)); n != 1 {
		t.Fatalf("after signing again: %d signature layers, want 1", n)
	}
}

func signatureLayers(t *testing.T, e *signEnv, sigRef string) []ocispec.Descriptor {
	t.Helper()
	_, data, err := e.c.FetchManifest(e.ctx, sigRef)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m.Layers
}

// TestVerifyUnsigned: no signature at all.
func TestVerifyUnsigned(t *testing.T) {
	e := newSignEnv(t)
	_, err := e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: e.pub})
	wantSignatureError(t, err, "no signatures", e.a.ManifestDigest.String())
}

// TestVerifyWrongKey: signed, but with another key.
func TestVerifyWrongKey(t *testing.T) {
	e := newSignEnv(t)
	e.sign(t, e.a)
	_, otherPub, err := GenerateKeyPair(t.TempDir(), []byte("other"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: otherPub})
	wantSignatureError(t, err, "wrong key", "no signature verifies")
}

// TestVerifyTamperedManifest: after signing, other content is pushed under
// the same tag.
func TestVerifyTamperedManifest(t *testing.T) {
	e := newSignEnv(t)
	e.sign(t, e.a)
	evil := heartbeat(t, "1.0.0", "evil")
	if _, err := e.c.Push(e.ctx, e.repo, evil, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	// By tag: the tag now names an unsigned digest.
	_, err := e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: e.pub})
	wantSignatureError(t, err, "no signatures", evil.ManifestDigest.String())
	// With the digest the caller trusted: the manifest changed.
	_, err = e.c.Verify(e.ctx, e.repo+":1.0.0@"+e.a.ManifestDigest.String(), VerifyOptions{KeyRef: e.pub})
	wantSignatureError(t, err, "manifest changed", evil.ManifestDigest.String())
	_, err = e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: e.pub, ExpectedDigest: e.a.ManifestDigest})
	wantSignatureError(t, err, "manifest changed")
	// The original digest itself is still signed.
	if _, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub}); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyPayloadNamesOtherDigest: A's valid signature copied to B's
// signature tag. falcoctl accepts this (it checks only the key); we refuse.
func TestVerifyPayloadNamesOtherDigest(t *testing.T) {
	e := newSignEnv(t)
	e.sign(t, e.a)
	b := heartbeat(t, "1.0.1", "")
	if _, err := e.c.Publish(e.ctx, e.repo, b, "1.0.1"); err != nil {
		t.Fatal(err)
	}
	sigDesc, err := e.c.Resolve(e.ctx, e.repo+":"+SignatureTag(e.a.ManifestDigest))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Tag(e.ctx, e.repo, sigDesc.Digest, SignatureTag(b.ManifestDigest)); err != nil {
		t.Fatal(err)
	}

	// The cosign library without the claim check, as falcoctl calls it,
	// accepts the copied signature: the test is meaningful.
	ver, err := loadVerifier(e.ctx, e.pub)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(e.ref(b), e.c.nameOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := cosign.VerifyImageSignatures(e.ctx, ref, &cosign.CheckOpts{
		RegistryClientOpts: e.c.ociremoteOptions(e.ctx),
		SigVerifier:        ver,
		IgnoreTlog:         true,
		IgnoreSCT:          true,
	}); err != nil {
		t.Fatalf("without the claim check the copied signature should pass: %v", err)
	}

	for _, r := range []string{e.repo + ":1.0.1", e.ref(b)} {
		_, err = e.c.Verify(e.ctx, r, VerifyOptions{KeyRef: e.pub})
		wantSignatureError(t, err, `payload names digest "`+e.a.ManifestDigest.String()+`"`, b.ManifestDigest.String())
	}
}

// TestVerifyAnnotations: required claims must be in the signed payload.
func TestVerifyAnnotations(t *testing.T) {
	e := newSignEnv(t)
	if err := e.c.Sign(e.ctx, e.ref(e.a), SignOptions{KeyRef: e.priv, Password: password, Annotations: map[string]string{"ruleset": "heartbeat"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub, Annotations: map[string]string{"ruleset": "heartbeat"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: e.pub, Annotations: map[string]string{"ruleset": "other"}})
	wantSignatureError(t, err, `payload signs ruleset heartbeat, not "other"`)
}

// TestEnvKeyRef: env://VAR holds the PEM of the private or public key.
func TestEnvKeyRef(t *testing.T) {
	e := newSignEnv(t)
	priv, err := os.ReadFile(e.priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(e.pub)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FALCOPS_TEST_COSIGN_KEY", string(priv))
	t.Setenv("FALCOPS_TEST_COSIGN_PUB", string(pub))
	t.Setenv(PasswordEnv, testPassword)
	// Password nil: $COSIGN_PASSWORD.
	if err := e.c.Sign(e.ctx, e.ref(e.a), SignOptions{KeyRef: "env://FALCOPS_TEST_COSIGN_KEY"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: "env://FALCOPS_TEST_COSIGN_PUB"})
	if err != nil || got.Digest != e.a.ManifestDigest {
		t.Fatalf("verify: %s, %v", got.Digest, err)
	}
	if _, err := e.c.Verify(e.ctx, e.repo+":1.0.0", VerifyOptions{KeyRef: "env://FALCOPS_TEST_UNSET"}); err == nil || !strings.Contains(err.Error(), "FALCOPS_TEST_UNSET") {
		t.Fatalf("unset variable: %v", err)
	}
	t.Setenv(PasswordEnv, "wrong")
	if err := e.c.Sign(e.ctx, e.ref(e.a), SignOptions{KeyRef: "env://FALCOPS_TEST_COSIGN_KEY"}); err == nil {
		t.Fatal("wrong password: no error")
	}
}

// TestSignRefusals: what Sign and the key references refuse.
func TestSignRefusals(t *testing.T) {
	e := newSignEnv(t)
	cases := map[string]SignOptions{
		e.repo + ":1.0.0": {KeyRef: e.priv, Password: password}, // a tag, not a digest
		e.ref(e.a):        {},                                   // no key
	}
	for ref, opts := range cases {
		if err := e.c.Sign(e.ctx, ref, opts); err == nil {
			t.Errorf("sign %s %+v: no error", ref, opts)
		}
	}
	if err := e.c.Sign(e.ctx, e.ref(e.a), SignOptions{IDToken: "x"}); err == nil || !strings.Contains(err.Error(), "TlogUpload") {
		t.Errorf("keyless without the log: %v", err)
	}
	if err := e.c.Sign(e.ctx, e.ref(e.a), SignOptions{KeyRef: "k8s://ns/secret"}); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Errorf("k8s:// key: %v", err)
	}
	if _, _, err := GenerateKeyPair(filepath.Dir(e.priv), []byte("again")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwriting a key pair: %v, want fs.ErrExist", err)
	}
	// A KMS provider that is not compiled in (and has no plugin) is named
	// in the error. (With -tags falcops_kms the provider exists; no cloud
	// is contacted from tests.)
	if slices.Contains(KMSProviders(), "awskms://") {
		return
	}
	if _, err := e.c.Verify(e.ctx, e.ref(e.a), VerifyOptions{KeyRef: "awskms:///alias/none"}); err == nil || !strings.Contains(err.Error(), "not compiled") {
		t.Errorf("awskms without provider: %v, want \"not compiled\"", err)
	} else {
		t.Logf("awskms: %v", err)
	}
}

// TestVerifyMissing: a reference that does not resolve is ErrNotFound, not
// a signature failure.
func TestVerifyMissing(t *testing.T) {
	e := newSignEnv(t)
	_, err := e.c.Verify(e.ctx, e.repo+":9.9.9", VerifyOptions{KeyRef: e.pub})
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrSignature) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
}
