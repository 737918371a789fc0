// Command falcops-controller keeps every Gardener shoot with the Falco
// extension on the Falco version its profile's lifecycle rules choose and on
// verified, digest-pinned rulesets, rolled out inside maintenance windows and
// in waves. See docs/operators.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/maintenance"
	"github.com/falcops/falcops/controllers/rollout"
	"github.com/falcops/falcops/controllers/rulesource"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/internal/shoot"
)

// RBAC, generated into config/rbac by `make generate`.
// +kubebuilder:rbac:groups=core.gardener.cloud,resources=shoots,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=falco.gardener.cloud,resources=falcoprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=falcops.dev,resources=rulesources;rolloutpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=falcops.dev,resources=rulesources/status;rolloutpolicies/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=falcops.dev,resources=shootrollouts,verbs=get;list;watch;create;patch;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",namespace=falcops-system,resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=falcops-system,resources=leases,verbs=get;list;watch;create;update;patch;delete

// options are the command-line flags.
type options struct {
	metricsAddr, probeAddr string
	leaderElect            bool
	namespace              string
	concurrency            int
	qps                    float32
	burst                  int
	pollInterval           time.Duration
	pollJitter             float64
	rolloutPolicy          string
	allowForcedDowngrade   bool
	shootSelector          string

	// beforePatch is a test hook (see maintenance.Reconciler.BeforePatch).
	beforePatch func(context.Context, *unstructured.Unstructured)
}

func (o *options) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (\"0\" turns it off).")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader (a Lease in --namespace), so only one replica acts.")
	fs.StringVar(&o.namespace, "namespace", envOr("POD_NAMESPACE", "falcops-system"), "The controller's namespace: RuleSource key Secrets and the leader Lease live here; no other Secrets are read or cached.")
	fs.IntVar(&o.concurrency, "concurrency", 16, "Shoots reconciled in parallel.")
	fs.Float32Var(&o.qps, "kube-api-qps", 200, "Sustained requests per second to the API server.")
	fs.IntVar(&o.burst, "kube-api-burst", 400, "Burst of requests to the API server.")
	fs.DurationVar(&o.pollInterval, "poll-interval", time.Minute, "Default RuleSource poll interval (spec.interval overrides it).")
	fs.Float64Var(&o.pollJitter, "poll-jitter", 0.1, "Random extra fraction of the interval added to each poll (0 to 1).")
	fs.StringVar(&o.rolloutPolicy, "rollout-policy", "default", "Name of the RolloutPolicy that orders changes in waves; without that object all shoots form one wave.")
	fs.BoolVar(&o.allowForcedDowngrade, "allow-forced-downgrade", false, "Let an expired or removed Falco version move to a lower one when no higher one is left (off: such shoots are blocked and say so).")
	fs.StringVar(&o.shootSelector, "shoot-selector", servicev1alpha1.ShootLabel+"=true", "Label selector of the shoots to manage and cache (Gardener sets this label on shoots with the Falco extension; \"\" caches all shoots).")
}

// jitterUpTo adds a random fraction of up to frac of the interval.
func jitterUpTo(frac float64) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration {
		limit := time.Duration(float64(d) * frac)
		if limit <= 0 {
			return d
		}
		return d + rand.N(limit)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// managerOptions builds the manager options: managed fields stripped from
// every cached object, Secrets cached only in the controller's namespace,
// shoots only with the Falco label and slimmed to the fields falcops reads
// (shoot.Slim), unstructured shoots read from the cache.
func (o *options) managerOptions() (ctrl.Options, error) {
	sel, err := labels.Parse(o.shootSelector)
	if err != nil {
		return ctrl.Options{}, fmt.Errorf("--shoot-selector: %w", err)
	}
	return ctrl.Options{
		Scheme:                  scheme.New(),
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "falcops-controller.falcops.dev",
		LeaderElectionNamespace: o.namespace,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Secret{}: {Namespaces: map[string]cache.Config{o.namespace: {}}},
				secretMetadata(): {Namespaces: map[string]cache.Config{o.namespace: {}}},
				shoot.New():      {Label: sel, Transform: shoot.Slim},
			},
		},
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	}, nil
}

// secretMetadata stands for the metadata-only Secret informer the
// RuleSource controller watches with: it too must stay in --namespace.
func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// setup registers the controllers.
func (o *options) setup(mgr ctrl.Manager, clk clock.PassiveClock) error {
	if err := (&rulesource.Reconciler{
		Client:          mgr.GetClient(),
		SecretNamespace: o.namespace,
		Clock:           clk,
		Recorder:        mgr.GetEventRecorder("falcops-rulesource"),
		DefaultInterval: o.pollInterval,
		Jitter:          jitterUpTo(o.pollJitter),
	}).SetupWithManager(mgr, 4); err != nil {
		return fmt.Errorf("rulesource controller: %w", err)
	}
	if err := (&maintenance.Reconciler{
		Client:               mgr.GetClient(),
		Clock:                clk,
		Recorder:             mgr.GetEventRecorder("falcops-maintenance"),
		RolloutPolicy:        o.rolloutPolicy,
		AllowForcedDowngrade: o.allowForcedDowngrade,
		BeforePatch:          o.beforePatch,
	}).SetupWithManager(mgr, o.concurrency); err != nil {
		return fmt.Errorf("maintenance controller: %w", err)
	}
	if err := (&rollout.Reconciler{
		Client:               mgr.GetClient(),
		Clock:                clk,
		Recorder:             mgr.GetEventRecorder("falcops-rollout"),
		AllowForcedDowngrade: o.allowForcedDowngrade,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("rollout controller: %w", err)
	}
	return nil
}

func main() {
	var o options
	fs := pflag.NewFlagSet("falcops-controller", pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: falcops-controller [flags]\n\nKeeps Gardener shoots on the Falco version their FalcoProfile lifecycle chooses and on\nverified, digest-pinned rulesets from RuleSources, in maintenance windows and waves.\n\nFlags:\n%s", fs.FlagUsages())
	}
	o.bind(fs)
	zopts := zap.Options{}
	gofs := flag.NewFlagSet("zap", flag.ContinueOnError)
	zopts.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "falcops-controller:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	opts, err := o.managerOptions()
	if err != nil {
		return err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.qps, o.burst
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return err
	}
	if err := o.setup(mgr, clock.RealClock{}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
