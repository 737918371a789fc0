package oci

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci/ocitest"
)

// heartbeatDir is the shipped ruleset the tests package.
const heartbeatDir = "../rulesets/heartbeat"

// recorder is a RoundTripper middleware that counts and records requests.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []string // "METHOD /path"
}

func newRecorder() *recorder {
	return &recorder{base: http.DefaultTransport.(*http.Transport).Clone()}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// writes are the recorded requests that change registry state.
func (r *recorder) writes() []string {
	var out []string
	for _, q := range r.requests() {
		m, _, _ := strings.Cut(q, " ")
		if m != http.MethodGet && m != http.MethodHead {
			out = append(out, q)
		}
	}
	return out
}

// startRegistry runs the test registry behind wrap (may be nil) and
// returns its host:port.
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	return ocitest.NewWith(t, ocitest.Options{Wrap: wrap}).Host
}

// newTestClient is a plain-HTTP client through rec (if not nil), without
// the user's Docker credentials.
func newTestClient(t *testing.T, rec *recorder, opts Options) *Client {
	t.Helper()
	opts.PlainHTTP = true
	if rec != nil {
		opts.Transport = rec
	}
	if opts.Credential == nil && opts.DockerConfig == "" {
		opts.DockerConfig = filepath.Join(t.TempDir(), "config.json")
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// heartbeat packages a copy of the shipped heartbeat ruleset as version;
// variant, if not empty, makes the content (and digest) differ.
func heartbeat(t *testing.T, version, variant string) *artifacts.Artifact {
	t.Helper()
	return ocitest.Package(t, ocitest.Variant(t, heartbeatDir, version, variant), artifacts.PackageOptions{Source: "https://github.com/falcops/falcops"})
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
