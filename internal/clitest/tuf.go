package clitest

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/falcops/falcops/oci"
)

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
// [oci.EmptyTrustedRoot]. For offline key-based verification the caller also sets
// SIGSTORE_CT_LOG_PUBLIC_KEY_FILE to a PEM public key (the cosign public key
// will do).
func TUFMirror(t testing.TB) []string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tuf")
	// TUF clients check expiry against the real clock, so the repository must too.
	expires := time.Now().AddDate(1, 0, 0).UTC() //nolint:forbidigo // see above
	if err := oci.WriteTUFMirror(dir, expires); err != nil {
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
