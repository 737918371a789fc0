package ocitest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/olareg/olareg"
	"github.com/olareg/olareg/config"
)

// Options change how a Registry serves.
type Options struct {
	// Wrap, if set, wraps the registry handler (to fail, slow down or
	// record requests).
	Wrap func(http.Handler) http.Handler
	// Dir keeps the storage in a folder (one OCI layout per repository)
	// instead of memory.
	Dir string
	// AllowDelete lets clients delete tags and manifests (tests of what
	// happens when tags disappear).
	AllowDelete bool
	// User and Password, if set, are required as HTTP basic
	// authentication on every request (a private registry).
	User, Password string
}

// Registry is an olareg registry on 127.0.0.1 over plain HTTP that keeps
// its address across Stop and Start. Clients need their plain-HTTP switch
// (falcoctl and oras --plain-http, cosign --allow-http-registry).
type Registry struct {
	// Host is 127.0.0.1:PORT.
	Host string

	handler http.Handler

	mu  sync.Mutex
	srv *http.Server

	requests atomic.Int64
	byKind   sync.Map // "HEAD manifests" -> *atomic.Int64
}

// New starts an empty in-memory registry for the rest of the test.
func New(t testing.TB) *Registry { return NewWith(t, Options{}) }

// NewWith starts a registry with options for the rest of the test.
func NewWith(t testing.TB, opts Options) *Registry {
	t.Helper()
	conf := config.Config{Storage: config.ConfigStorage{StoreType: config.StoreMem}}
	if opts.Dir != "" {
		conf.Storage = config.ConfigStorage{StoreType: config.StoreDir, RootDir: opts.Dir}
	}
	if opts.AllowDelete {
		yes := true
		conf.API.DeleteEnabled = &yes
	}
	store := olareg.New(conf)
	var h http.Handler = store
	if opts.User != "" {
		h = basicAuth(opts.User, opts.Password, h)
	}
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Registry{Host: ln.Addr().String(), handler: h}
	r.serve(ln)
	t.Cleanup(func() {
		r.Stop()
		_ = store.Close()
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
	c, _ := r.byKind.LoadOrStore(req.Method+" "+kind, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	r.handler.ServeHTTP(w, req)
}

// Requests is the number of requests served so far.
func (r *Registry) Requests() int64 { return r.requests.Load() }

// Reset sets the request counters to zero.
func (r *Registry) Reset() {
	r.requests.Store(0)
	r.byKind.Range(func(_, c any) bool {
		c.(*atomic.Int64).Store(0)
		return true
	})
}

// RequestsOf counts requests by method and kind ("HEAD manifests",
// "GET blobs", "GET tags").
func (r *Registry) RequestsOf(methodKind string) int64 {
	c, ok := r.byKind.Load(methodKind)
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
		if ln, err = net.Listen("tcp", r.Host); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restarting the registry on %s: %v", r.Host, err)
	}
	r.serve(ln)
}

// basicAuth answers 401 with a Basic challenge unless the request carries
// user and password.
func basicAuth(user, pass string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="falcops-test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
