package main

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/controllers/falcoprofile"
	"github.com/falcops/falcops/controllers/maintenance"
	"github.com/falcops/falcops/controllers/rolloutpolicy"
	"github.com/falcops/falcops/controllers/rulesource"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/webhooks"
)

// managerOptions builds the manager options: the cache of scheme.Cache
// (labelled Secrets of the controller's namespace only, slim labelled
// shoots), unstructured shoots read from the cache.
func (o *options) managerOptions() (ctrl.Options, error) {
	m := &o.manager
	sel, err := labels.Parse(m.shootSelector)
	if err != nil {
		return ctrl.Options{}, fmt.Errorf("--shoot-selector: %w", err)
	}
	return ctrl.Options{
		Scheme:                  scheme.New(),
		Metrics:                 m.metrics(),
		HealthProbeBindAddress:  m.probeAddr,
		LeaderElection:          m.leaderElect,
		LeaderElectionID:        "falcops-controller.falcops.dev",
		LeaderElectionNamespace: m.namespace,
		Cache:                   scheme.Cache(m.namespace, sel),
		Client:                  client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		WebhookServer:           webhook.NewServer(webhook.Options{Host: o.webhooks.host, Port: o.webhooks.port, CertDir: o.webhooks.certDir}),
	}, nil
}

// metrics serves /metrics over HTTPS (a self-signed certificate unless
// one is mounted) and only to callers the API server authenticates
// (TokenReview) and authorizes for GET /metrics (SubjectAccessReview):
// controller-runtime's filter.
func (m *managerOptions) metrics() metricsserver.Options {
	if m.metricsInsecure {
		return metricsserver.Options{BindAddress: m.metricsAddr}
	}
	return metricsserver.Options{BindAddress: m.metricsAddr, SecureServing: true, FilterProvider: filters.WithAuthenticationAndAuthorization}
}

// setup registers the controllers. The maintenance and rolloutpolicy
// controllers share one rollout.InputsCache: they list the same profiles
// and RuleSources, so the merge is done once per change for both.
func (o *options) setup(ctx context.Context, mgr ctrl.Manager, clk clock.PassiveClock) error {
	if err := (&rulesource.Reconciler{
		SecretNamespace: o.manager.namespace,
		Clock:           clk,
		DefaultInterval: o.poll.interval,
		RegistryTimeout: o.poll.timeout,
		Jitter:          rulesource.JitterUpTo(o.poll.jitter),
	}).SetupWithManager(ctx, mgr, o.retry.controllerOptions(o.concurrency.ruleSource)); err != nil {
		return fmt.Errorf("rulesource controller: %w", err)
	}
	op, err := o.rollout.operator()
	if err != nil {
		return err
	}
	inputs := &rollout.InputsCache{Operator: op}
	if err := (&maintenance.Reconciler{
		Clock:                clk,
		RolloutPolicy:        o.rollout.policy,
		AllowForcedDowngrade: o.rollout.allowForcedDowngrade,
		Inputs:               inputs,
	}).SetupWithManager(ctx, mgr, o.retry.controllerOptions(o.concurrency.maintenance)); err != nil {
		return fmt.Errorf("maintenance controller: %w", err)
	}
	if err := (&rolloutpolicy.Reconciler{
		Clock:                clk,
		AllowForcedDowngrade: o.rollout.allowForcedDowngrade,
		Inputs:               inputs,
	}).SetupWithManager(ctx, mgr, o.retry.controllerOptions(o.concurrency.rolloutPolicy)); err != nil {
		return fmt.Errorf("rolloutpolicy controller: %w", err)
	}
	if err := (&falcoprofile.Reconciler{Clock: clk}).SetupWithManager(ctx, mgr, o.retry.controllerOptions(1)); err != nil {
		return fmt.Errorf("falcoprofile controller: %w", err)
	}
	if o.dashboard.enabled() {
		if err := o.dashboard.setup(ctx, mgr, clk); err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
	}
	if !o.webhooks.enabled {
		return nil
	}
	wo := &webhooks.Options{Operator: op, Inputs: webhooks.CachedInputs(mgr.GetClient(), inputs), Now: clk.Now}
	if op != nil && op.Rules.CosignPublicKey != "" {
		// Custom rules are loaded on top of the rulesets' verified files,
		// fetched and checked as the extension does (cached by digest).
		oc, err := oci.New(oci.Options{Credential: oci.Anonymous})
		if err != nil {
			return err
		}
		reg := &extension.Registry{Client: oc, PublicKey: []byte(op.Rules.CosignPublicKey)}
		wo.Base = webhooks.RegistryBase(reg.Files)
	}
	if err := webhooks.Register(ctx, mgr, wo); err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	return nil
}
