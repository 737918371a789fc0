package oci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/olareg/olareg"
	"github.com/olareg/olareg/config"
)

// NewRegistry returns an OCI registry (olareg) as an http.Handler, with the
// referrers API, pushes allowed and deletes refused. root is the storage
// directory (one OCI layout per repository); "" keeps everything in memory.
// Call closeFn when done to release the storage.
func NewRegistry(root string) (handler http.Handler, closeFn func() error) {
	conf := config.Config{Storage: config.ConfigStorage{StoreType: config.StoreMem}}
	if root != "" {
		conf.Storage = config.ConfigStorage{StoreType: config.StoreDir, RootDir: root}
	}
	s := olareg.New(conf)
	return s, s.Close
}

// ServerOptions configure the embedded registry server.
type ServerOptions struct {
	// Root is the storage directory ("" keeps everything in memory).
	Root string
	// IndexFile, if set, is served at /index.yaml (falcoctl's index).
	IndexFile string
	// TUFDir, if set, is served at /tuf/: a TUF repository (WriteTUFMirror)
	// that lets cosign and falcoctl verify key-based signatures offline.
	TUFDir string
	// HeaderTimeout bounds reading a request's headers, BodyTimeout the
	// whole request (body included), IdleTimeout a kept-alive connection
	// between requests (defaults DefaultServerHeaderTimeout,
	// DefaultServerBodyTimeout, DefaultServerIdleTimeout).
	HeaderTimeout, BodyTimeout, IdleTimeout time.Duration
	// MaxPushSize bounds the body of one push request (blob upload or
	// manifest; default DefaultMaxBlobSize): more is answered with 413.
	MaxPushSize int64
}

// Defaults of the embedded registry's bounds: a client gets this long to
// send its headers, its whole request, and to reuse an idle connection.
const (
	DefaultServerHeaderTimeout = 10 * time.Second
	DefaultServerBodyTimeout   = 5 * time.Minute
	DefaultServerIdleTimeout   = 2 * time.Minute
)

func (o ServerOptions) withDefaults() ServerOptions {
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultServerHeaderTimeout
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = DefaultServerBodyTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultServerIdleTimeout
	}
	if o.MaxPushSize <= 0 {
		o.MaxPushSize = DefaultMaxBlobSize
	}
	return o
}

// NewServer returns the embedded registry as an HTTP server, not yet
// serving, and a function that releases its storage after the server
// stopped.
func NewServer(opts ServerOptions) (*http.Server, func() error) {
	opts = opts.withDefaults()
	h, closeStore := NewRegistry(opts.Root)
	mux := http.NewServeMux()
	mux.Handle("/v2/", limitPush(h, opts.MaxPushSize))
	if opts.IndexFile != "" {
		mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, opts.IndexFile) })
	}
	if opts.TUFDir != "" {
		mux.Handle("/tuf/", http.StripPrefix("/tuf/", http.FileServer(http.Dir(opts.TUFDir))))
	}
	return &http.Server{Handler: mux, ReadHeaderTimeout: opts.HeaderTimeout, ReadTimeout: opts.BodyTimeout, IdleTimeout: opts.IdleTimeout}, closeStore
}

// Serve runs the registry on addr (e.g. 127.0.0.1:5000) until ctx ends,
// then shuts down gracefully. It logs the address it listens on.
func Serve(ctx context.Context, addr string, opts ServerOptions) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return ServeListener(ctx, ln, opts)
}

// ServeListener is Serve on a listener the caller opened (e.g. on port 0).
// It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, opts ServerOptions) error {
	srv, closeStore := NewServer(opts)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	storage := opts.Root
	if storage == "" {
		storage = "memory"
	}
	slog.InfoContext(ctx, "registry listening", "addr", ln.Addr().String(), "storage", storage)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-done:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		serveErr = srv.Shutdown(sctx)
		cancel()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) && serveErr == nil {
			serveErr = err
		}
		slog.InfoContext(ctx, "registry stopped", "addr", ln.Addr().String())
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := closeStore(); err != nil && serveErr == nil {
		serveErr = fmt.Errorf("registry storage: %w", err)
	}
	return serveErr
}

// limitPush answers 413 to a request that announces a body over max and
// stops reading any body at max.
func limitPush(h http.Handler, max int64) http.Handler {
	limited := http.MaxBytesHandler(h, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			fmt.Fprintf(w, `{"errors":[{"code":"SIZE_INVALID","message":"a push of %d bytes is over this registry's limit of %d bytes"}]}`, r.ContentLength, max)
			return
		}
		limited.ServeHTTP(w, r)
	})
}
