package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/version"
)

// RBAC of the seed side (config/extension/rbac.yaml holds it as a
// ClusterRole): Extensions and their status, Clusters, ManagedResources,
// the Secrets it writes and the gardener kubeconfig Secret it reads, the
// ref- ConfigMaps, and its leader Lease.

const usage = `Usage: falcops-extension --config FILE --profiles REF [flags]

Deploys Falco with the falcops agent into every shoot of this seed that enables the
shoot-falco-service extension: it reconciles Gardener Extension objects, renders the
objects for each shoot (the same as 'falcops render') and writes one ManagedResource
per shoot. The FalcoProfile comes from the signed falco-profiles artifact (--profiles),
verified with the operator configuration's cosign key.

Flags:
%s`

type options struct {
	config, profiles        string
	plainHTTP               bool
	metricsAddr, probeAddr  string
	leaderElect             bool
	namespace               string
	concurrency             int
	healthInterval, timeout time.Duration
}

func (o *options) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.config, "config", "", "operator configuration (config.falcops.io/v1alpha1 Configuration; see config/extension/configuration.yaml) (required)")
	fs.StringVar(&o.profiles, "profiles", "", "the signed falco-profiles artifact, such as registry.example/falcops/falco-profiles:latest (required)")
	fs.BoolVar(&o.plainHTTP, "plain-http", false, "talk HTTP to a loopback registry (development only; refused for other hosts)")
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "address of /metrics (\"0\" turns it off)")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles")
	fs.StringVar(&o.namespace, "namespace", "falcops-system", "the extension's namespace: its leader Lease and the configuration's rules.credentialsSecret live here")
	fs.IntVar(&o.concurrency, "concurrency", 5, "Extensions reconciled at once")
	fs.DurationVar(&o.healthInterval, "health-interval", time.Minute, "how often each shoot's Falco health is checked")
	fs.DurationVar(&o.timeout, "registry-timeout", 2*time.Minute, "deadline of the registry work of one reconcile")
}

func main() {
	var o options
	fs := pflag.NewFlagSet("falcops-extension", pflag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintf(os.Stderr, usage, fs.FlagUsages()) }
	fs.SetOutput(io.Discard)
	o.bind(fs)
	zopts := zap.Options{}
	gofs := flag.NewFlagSet("zap", flag.ContinueOnError)
	zopts.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
	showVersion := fs.Bool("version", false, "print the version, then exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "falcops-extension: %v (see --help)\n", err)
		os.Exit(2)
	}
	if *showVersion {
		fmt.Print(version.Report("falcops-extension"))
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "falcops-extension:", err)
		os.Exit(1)
	}
}

// operator reads, defaults and validates --config.
func (o *options) operator() (*configv1alpha1.Configuration, error) {
	if o.config == "" || o.profiles == "" {
		return nil, errors.New("--config and --profiles are required (see --help)")
	}
	data, err := os.ReadFile(o.config)
	if err != nil {
		return nil, err
	}
	op, err := configv1alpha1.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.config, err)
	}
	configv1alpha1.Default(op)
	if err := configv1alpha1.Validate(op); err != nil {
		return nil, fmt.Errorf("%s: %w", o.config, err)
	}
	return op, nil
}

func run(o *options) error {
	op, err := o.operator()
	if err != nil {
		return err
	}
	keys, err := extension.LoadKeys(op)
	if err != nil {
		return fmt.Errorf("%s: %w", o.config, err)
	}
	oc, err := oci.New(oci.Options{PlainHTTP: o.plainHTTP, Credential: oci.Anonymous})
	if err != nil {
		return err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("no kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  extension.Scheme(),
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "falcops-extension",
		LeaderElectionNamespace: o.namespace,
	})
	if err != nil {
		return err
	}
	r := &extension.Reconciler{
		Client:         mgr.GetClient(),
		Operator:       op,
		Sources:        &timed{reg: &extension.Registry{Client: oc, Profiles: o.profiles, PublicKey: []byte(op.Rules.CosignPublicKey)}, timeout: o.timeout},
		Health:         &extension.Health{ShootClient: shootClient(mgr.GetClient())},
		HealthInterval: o.healthInterval,
		Namespace:      o.namespace,
		Keys:           keys,
	}
	if err := r.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: o.concurrency}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// shootClient reads the kubeconfig gardenlet keeps in each shoot
// namespace (Secret gardener, key kubeconfig).
func shootClient(seed client.Client) func(ctx context.Context, namespace string) (client.Client, error) {
	return func(ctx context.Context, namespace string) (client.Client, error) {
		s := &corev1.Secret{}
		if err := seed.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "gardener"}, s); err != nil {
			return nil, fmt.Errorf("the shoot's kubeconfig: %w", err)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data["kubeconfig"])
		if err != nil {
			return nil, fmt.Errorf("the shoot's kubeconfig: %w", err)
		}
		cfg.Timeout = 15 * time.Second
		return client.New(cfg, client.Options{})
	}
}
