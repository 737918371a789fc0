package testenv

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falcops/falcops/oci"
)

// Registry is an in-process olareg registry on 127.0.0.1 that keeps its
// address across Stop and Start.
type Registry struct {
	// Host is host:port.
	Host string

	handler http.Handler
	closeFn func() error

	mu  sync.Mutex
	srv *http.Server

	requests atomic.Int64
	byMethod sync.Map // "HEAD /v2/.../manifests/..." -> *atomic.Int64
}

// StartRegistry starts a registry whose storage lives in a test temp dir.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	h, closeFn := oci.NewRegistry(t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Registry{Host: ln.Addr().String(), handler: h, closeFn: closeFn}
	r.serve(ln)
	t.Cleanup(func() {
		r.Stop()
		_ = closeFn()
	})
	return r
}

func (r *Registry) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.count), ReadHeaderTimeout: 10 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (r *Registry) count(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	kind := "other"
	switch {
	case strings.Contains(req.URL.Path, "/manifests/"):
		kind = "manifests"
	case strings.Contains(req.URL.Path, "/blobs/"):
		kind = "blobs"
	case strings.HasSuffix(req.URL.Path, "/tags/list"):
		kind = "tags"
	}
	c, _ := r.byMethod.LoadOrStore(req.Method+" "+kind, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	r.handler.ServeHTTP(w, req)
}

// Requests is the number of requests served so far.
func (r *Registry) Requests() int64 { return r.requests.Load() }

// RequestsOf counts requests by method and kind ("HEAD manifests",
// "GET blobs", "GET tags").
func (r *Registry) RequestsOf(methodKind string) int64 {
	c, ok := r.byMethod.Load(methodKind)
	if !ok {
		return 0
	}
	return c.(*atomic.Int64).Load()
}

// Stop closes the listener and every connection: clients see connection
// refused until Start.
func (r *Registry) Stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	}
}

// Start serves again on the same address.
func (r *Registry) Start(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", r.Host); err == nil || !errors.Is(err, syscallAddrInUse) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restarting the registry on %s: %v", r.Host, err)
	}
	r.serve(ln)
}
