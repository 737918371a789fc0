package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/go-logr/logr"

	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/internal/sharedtest"
)

// Env is a running kube-apiserver with falcops' CRDs installed.
type Env struct {
	// Config talks to the API server without client-side rate limits.
	Config *rest.Config
	// Client reads and writes directly (no cache).
	Client client.Client
	// Scheme knows the built-in kinds, FalcoProfile and falcops' kinds.
	Scheme *k8sruntime.Scheme
}

// Scheme returns the controller's scheme.
func Scheme() *k8sruntime.Scheme { return scheme.New() }

// repoRoot is the repository's root directory, found from this source
// file, so that New works outside a test too (TestMain).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Start starts envtest for one test. Without KUBEBUILDER_ASSETS (make test
// sets it from hack/envtest-assets.sh) the test is skipped, or fails when
// FALCOPS_REQUIRE_TOOLS=1 (CI).
func Start(t testing.TB) *Env {
	t.Helper()
	assets := requireAssets(t)
	e, stop, err := New(assets)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Logf("stopping envtest: %v", err)
		}
	})
	return e
}

var shared struct {
	sync.Mutex
	env  *Env
	stop func() error
	err  error
}

// Shared returns one envtest per test binary, started on first use; call
// StopShared from TestMain. Tests sharing it must clean up cluster-scoped
// objects they create.
func Shared(t testing.TB) *Env {
	t.Helper()
	assets := requireAssets(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.env == nil && shared.err == nil {
		shared.env, shared.stop, shared.err = New(assets)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

// Main runs a package's tests that share one envtest API server (Shared)
// and stops it at the end. Controller logs are discarded unless
// FALCOPS_TEST_LOG=1: they drown test output.
func Main(m *testing.M) {
	if os.Getenv("FALCOPS_TEST_LOG") == "1" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the shared envtest, if one was started.
func StopShared() {
	shared.Lock()
	defer shared.Unlock()
	if shared.stop != nil {
		_ = shared.stop()
		shared.env, shared.stop = nil, nil
	}
}

func requireAssets(t testing.TB) string {
	t.Helper()
	return sharedtest.Getenv(t, "KUBEBUILDER_ASSETS", "run `make test`, or export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)")
}

// New starts envtest from the assets directory and returns the Env and a
// function that stops it.
func New(assets string) (*Env, func() error, error) {
	root := repoRoot()
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases"), filepath.Join(root, "internal", "testenv", "crds")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := te.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("starting envtest from %s: %w", assets, err)
	}
	cfg.QPS, cfg.Burst = 5000, 10000
	s := Scheme()
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		_ = te.Stop()
		return nil, nil, err
	}
	return &Env{Config: cfg, Client: c, Scheme: s}, te.Stop, nil
}

// StartManager starts a manager built with opts (metrics and probes off,
// no leader election) after setup registered its controllers, waits for
// its caches, and stops it when the test ends.
func (e *Env) StartManager(t testing.TB, opts ctrl.Options, setup func(ctrl.Manager) error) ctrl.Manager {
	t.Helper()
	opts.Scheme = e.Scheme
	// Metrics only where a test asks for them on loopback.
	if !strings.HasPrefix(opts.Metrics.BindAddress, "127.0.0.1:") {
		opts.Metrics = metricsserver.Options{BindAddress: "0"}
	}
	opts.HealthProbeBindAddress = "0"
	opts.LeaderElection = false
	skip := true
	opts.Controller = config.Controller{SkipNameValidation: &skip}
	mgr, err := ctrl.NewManager(e.Config, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("manager did not stop within 30s")
		}
	})
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		t.Fatal("manager caches did not sync")
	}
	return mgr
}

// Seed starts a kube-apiserver with Gardener's own seed CRDs (Extension,
// Cluster, ManagedResource, ScrapeConfig: hack/gardener-crds.sh puts them
// into the tool cache and make test sets FALCOPS_GARDENER_CRDS), with a
// client of scheme s.
func Seed(t testing.TB, s *k8sruntime.Scheme) *Env {
	t.Helper()
	assets := requireAssets(t)
	crds := sharedtest.Getenv(t, "FALCOPS_GARDENER_CRDS", "run `make test`, or hack/gardener-crds.sh DIR and export FALCOPS_GARDENER_CRDS=DIR")
	te := &envtest.Environment{CRDDirectoryPaths: []string{crds}, ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: assets}
	cfg, err := te.Start()
	if err != nil {
		t.Fatalf("starting envtest from %s: %v", assets, err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	cfg.QPS, cfg.Burst = 5000, 10000
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Config: cfg, Client: c, Scheme: s}
}

// WithWebhooks starts a kube-apiserver with falcops' CRDs and the webhook
// configurations in paths registered, pointing at a local webhook server
// on 127.0.0.1 (host, port and certificates in the returned options).
func WithWebhooks(t testing.TB, paths ...string) (*Env, *envtest.WebhookInstallOptions) {
	t.Helper()
	assets := requireAssets(t)
	root := repoRoot()
	full := make([]string, len(paths))
	for i, p := range paths {
		full[i] = filepath.Join(root, p)
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases"), filepath.Join(root, "internal", "testenv", "crds")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		WebhookInstallOptions: envtest.WebhookInstallOptions{Paths: full, LocalServingHost: "127.0.0.1"},
	}
	cfg, err := te.Start()
	if err != nil {
		t.Fatalf("starting envtest from %s: %v", assets, err)
	}
	t.Cleanup(func() { _ = te.Stop() })
	cfg.QPS, cfg.Burst = 5000, 10000
	s := Scheme()
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Config: cfg, Client: c, Scheme: s}, &te.WebhookInstallOptions
}

// WriteKubeconfig writes a kubeconfig for the API server's admin client
// (context "envtest") to path, for commands and tools run against it.
func (e *Env) WriteKubeconfig(t testing.TB, path string) {
	t.Helper()
	c := e.Config
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["envtest"] = &clientcmdapi.Cluster{Server: c.Host, CertificateAuthorityData: c.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: c.CertData, ClientKeyData: c.KeyData, Token: c.BearerToken}
	cfg.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "envtest"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}
