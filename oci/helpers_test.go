package oci

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/rules"
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

// startRegistry runs an in-memory olareg registry on 127.0.0.1:0 behind
// wrap (may be nil) and returns its host:port.
func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	h, closeFn := NewRegistry("")
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = closeFn()
	})
	return strings.TrimPrefix(srv.URL, "http://")
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

var versionLine = regexp.MustCompile(`(?m)^version: .*$`)

// heartbeat packages a copy of the shipped heartbeat ruleset as version;
// variant, if not empty, is appended to the rules file as a comment so the
// content (and digest) differs.
func heartbeat(t *testing.T, version, variant string) *artifacts.Artifact {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "heartbeat")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(heartbeatDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(heartbeatDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Name() == rules.ManifestFile:
			data = versionLine.ReplaceAll(data, []byte("version: "+version))
		case variant != "" && strings.HasSuffix(e.Name(), "_rules.yaml"):
			data = append(data, []byte("\n# variant "+variant+"\n")...)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rd, fs := rules.ReadManifest(dir)
	if rd == nil || fs.Errors() > 0 {
		t.Fatalf("reading %s: %v", dir, fs)
	}
	rs, fs := rules.LoadRuleset(rd, rules.Options{})
	if fs.Errors() > 0 {
		t.Fatalf("loading %s: %v", dir, fs)
	}
	a, err := artifacts.Package(rd, rs, artifacts.PackageOptions{Source: "https://github.com/falcops/falcops"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Config.Version != version {
		t.Fatalf("packaged version %q, want %q", a.Config.Version, version)
	}
	return a
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
