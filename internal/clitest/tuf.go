package clitest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// EmptyTrustedRoot is a Sigstore trusted root with no transparency logs,
// certificate authorities, CT logs or timestamp authorities: enough for
// key-based verification with the transparency log ignored.
const EmptyTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",` +
	`"tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`

// TrustedRootTarget is the target name under which Sigstore clients look up
// the trusted root in a TUF repository.
const TrustedRootTarget = "trusted_root.json"

// TUFMirror builds a minimal TUF repository, serves it on 127.0.0.1 for the
// rest of the test and returns the environment that points cosign and
// falcoctl (v0.12+) at it instead of the Sigstore TUF CDN:
//
//	TUF_MIRROR=http://127.0.0.1:PORT
//	TUF_ROOT_JSON=<repository>/1.root.json
//	TUF_ROOT=<empty cache directory>
//
// The repository has one ed25519 key for all four roles, a consistent
// snapshot, expiry in one year, and a single target, trusted_root.json =
// [EmptyTrustedRoot]. For offline key-based verification the caller also sets
// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE to a PEM public key (the cosign public key
// will do).
func TUFMirror(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tuf")
	// TUF clients check expiry against the real clock, so the repository must too.
	expires := time.Now().AddDate(1, 0, 0).UTC() //nolint:forbidigo // see above
	if err := writeTUFRepository(dir, expires); err != nil {
		t.Fatalf("building the TUF repository: %v", err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return []string{
		"TUF_MIRROR=" + srv.URL,
		"TUF_ROOT_JSON=" + filepath.Join(dir, "1.root.json"),
		"TUF_ROOT=" + t.TempDir(),
	}
}

// writeTUFRepository writes the repository described at [TUFMirror] into dir.
func writeTUFRepository(dir string, expires time.Time) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer, err := signature.LoadED25519Signer(priv)
	if err != nil {
		return err
	}
	key, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		return err
	}

	content := []byte(EmptyTrustedRoot)
	target, err := metadata.TargetFile().FromBytes(TrustedRootTarget, content, "sha256")
	if err != nil {
		return err
	}
	targets := metadata.Targets(expires)
	targets.Signed.Targets[TrustedRootTarget] = target
	snapshot := metadata.Snapshot(expires)
	timestamp := metadata.Timestamp(expires)
	root := metadata.Root(expires)
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := root.Signed.AddKey(key, role); err != nil {
			return err
		}
	}

	for _, sign := range []func(signature.Signer) (*metadata.Signature, error){
		root.Sign, targets.Sign, snapshot.Sign, timestamp.Sign,
	} {
		if _, err := sign(signer); err != nil {
			return err
		}
	}

	sum := sha256.Sum256(content)
	targetsDir := filepath.Join(dir, "targets")
	if err := os.MkdirAll(targetsDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(targetsDir, hex.EncodeToString(sum[:])+"."+TrustedRootTarget), content, 0o644); err != nil {
		return err
	}
	for name, write := range map[string]func(string, bool) error{
		"1.root.json":     root.ToFile,
		"1.targets.json":  targets.ToFile,
		"1.snapshot.json": snapshot.ToFile,
		"timestamp.json":  timestamp.ToFile,
	} {
		if err := write(filepath.Join(dir, name), true); err != nil {
			return err
		}
	}
	return nil
}
