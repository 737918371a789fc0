package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/falcops/falcops/version"
)

// RBAC, generated into config/rbac by `make generate`.
// +kubebuilder:rbac:groups=core.gardener.cloud,resources=shoots,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=falco.gardener.cloud,resources=falcoprofiles,verbs=get;list;watch
// +kubebuilder:rbac:groups=falco.gardener.cloud,resources=falcoprofiles/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=falcops.dev,resources=rulesources;rolloutpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=falcops.dev,resources=rulesources/status;rolloutpolicies/status,verbs=get;patch;update
// +kubebuilder:rbac:groups=falcops.dev,resources=shootrollouts,verbs=get;list;watch;create;patch;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=selfsubjectreviews,verbs=create
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get
// +kubebuilder:rbac:groups=core.gardener.cloud,resources=projects,verbs=get;list;watch
// +kubebuilder:rbac:groups="",namespace=falcops-system,resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=falcops-system,resources=leases,verbs=get;list;watch;create;update;patch;delete

const usage = `Usage: falcops-controller [flags]

Keeps Gardener shoots on the Falco version their FalcoProfile lifecycle chooses and on
verified, digest-pinned rulesets from RuleSources, in maintenance windows and waves.

Flags:
%s`

// newFlagSet returns the command's flag set, without flags.
func newFlagSet() *pflag.FlagSet {
	return pflag.NewFlagSet("falcops-controller", pflag.ContinueOnError)
}

func main() {
	var o options
	fs := newFlagSet()
	fs.Usage = func() { fmt.Fprintf(os.Stderr, usage, fs.FlagUsages()) }
	fs.SetOutput(io.Discard) // errors are printed once, below, without the usage
	o.BindFlags(fs)
	zopts := zap.Options{}
	gofs := flag.NewFlagSet("zap", flag.ContinueOnError)
	zopts.BindFlags(gofs)
	fs.AddGoFlagSet(gofs)
	showVersion := fs.Bool("version", false, "Print the version and what this build understands, then exit.")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "falcops-controller: %v (see --help)\n", err)
		os.Exit(2)
	}
	if *showVersion {
		fmt.Print(version.Report("falcops-controller"))
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "falcops-controller:", err)
		os.Exit(1)
	}
}

func run(o *options) error {
	if err := o.retry.validate(); err != nil {
		return err
	}
	opts, err := o.managerOptions()
	if err != nil {
		return err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = o.manager.qps, o.manager.burst
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	if err := o.setup(ctx, mgr, clock.RealClock{}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
