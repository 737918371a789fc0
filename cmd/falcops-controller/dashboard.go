package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"

	"github.com/falcops/falcops/dashboard"
)

// dashboardOptions configure the fleet dashboard's server.
type dashboardOptions struct {
	addr    string
	certDir string
	// secure serves HTTPS with authn/authz even on loopback (tests).
	secure bool
}

const dashboardHelp = "Address of the read-only fleet dashboard at /dashboard/ (\"\" or \"0\": off). On loopback " +
	"(127.0.0.1, ::1, localhost; reach it with kubectl port-forward) it is plain HTTP; on any other address it is HTTPS and " +
	"only for callers the API server authenticates and authorizes for GET on the non-resource URL /dashboard/* (as /metrics)."

// BindFlags binds the dashboard flags to fs.
func (o *dashboardOptions) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.addr, "dashboard-bind-address", "", dashboardHelp)
	fs.StringVar(&o.certDir, "dashboard-cert-dir", "", "Folder with the dashboard's tls.crt and tls.key when it is not on loopback, re-read when they change (default: a self-signed certificate made at start).")
}

func (o *dashboardOptions) enabled() bool { return o.addr != "" && o.addr != "0" }

// loopback tells whether addr listens on a loopback address only.
func loopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--dashboard-bind-address %q: %w", addr, err)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// setupDashboard adds the dashboard's server to the manager. It reads the
// manager's cache only, and serves on every replica (not only the leader).
func (o *dashboardOptions) setup(ctx context.Context, mgr ctrl.Manager, clk clock.PassiveClock) error {
	local, err := loopback(o.addr)
	if err != nil {
		return err
	}
	local = local && !o.secure
	d := dashboard.New(mgr.GetCache(), clk)
	if err := d.Watch(ctx, mgr.GetCache()); err != nil {
		return err
	}
	handler := d.Handler()
	var tlsConfig *tls.Config
	if !local {
		filter, err := filters.WithAuthenticationAndAuthorization(mgr.GetConfig(), mgr.GetHTTPClient())
		if err != nil {
			return err
		}
		if handler, err = filter(ctrl.Log.WithName("dashboard"), handler); err != nil {
			return err
		}
		if tlsConfig, err = o.tls(ctx); err != nil {
			return err
		}
	}
	srv := &http.Server{Handler: handler, TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return mgr.Add(dashboardRunnable{srv: srv, addr: o.addr})
}

// tls is the dashboard's TLS configuration: the mounted certificate,
// watched for rotation, or a self-signed one.
func (o *dashboardOptions) tls(ctx context.Context) (*tls.Config, error) {
	if o.certDir != "" {
		w, err := certwatcher.New(filepath.Join(o.certDir, "tls.crt"), filepath.Join(o.certDir, "tls.key"))
		if err != nil {
			return nil, fmt.Errorf("--dashboard-cert-dir: %w", err)
		}
		go func() { _ = w.Start(ctx) }()
		return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: w.GetCertificate}, nil
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("falcops-dashboard", nil, nil)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// dashboardRunnable serves until the manager stops.
type dashboardRunnable struct {
	srv  *http.Server
	addr string
}

// NeedLeaderElection: every replica serves the page from its own cache.
func (dashboardRunnable) NeedLeaderElection() bool { return false }

func (r dashboardRunnable) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	scheme := "http"
	if r.srv.TLSConfig != nil {
		scheme = "https"
	}
	ctrl.Log.WithName("dashboard").Info("serving", "address", scheme+"://"+ln.Addr().String()+dashboard.Prefix)
	errs := make(chan error, 1)
	go func() {
		if r.srv.TLSConfig != nil {
			errs <- r.srv.ServeTLS(ln, "", "")
			return
		}
		errs <- r.srv.Serve(ln)
	}()
	select {
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return r.srv.Shutdown(shutdown)
	case err := <-errs:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

var _ manager.LeaderElectionRunnable = dashboardRunnable{}
