package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/falcops/falcops/controllers/maintenance"
	"github.com/falcops/falcops/controllers/rolloutpolicy"
	"github.com/falcops/falcops/controllers/rulesource"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// managerOptions builds the manager options: managed fields stripped from
// every cached object, Secrets cached only in the controller's namespace,
// shoots only with the Falco label and slimmed to the fields falcops reads
// (shoot.Slim), unstructured shoots read from the cache.
func (o *options) managerOptions() (ctrl.Options, error) {
	m := &o.manager
	sel, err := labels.Parse(m.shootSelector)
	if err != nil {
		return ctrl.Options{}, fmt.Errorf("--shoot-selector: %w", err)
	}
	return ctrl.Options{
		Scheme:                  scheme.New(),
		Metrics:                 metricsserver.Options{BindAddress: m.metricsAddr},
		HealthProbeBindAddress:  m.probeAddr,
		LeaderElection:          m.leaderElect,
		LeaderElectionID:        "falcops-controller.falcops.dev",
		LeaderElectionNamespace: m.namespace,
		Cache: cache.Options{
			DefaultTransform: cache.TransformStripManagedFields(),
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Secret{}: {Namespaces: map[string]cache.Config{m.namespace: {}}},
				secretMetadata(): {Namespaces: map[string]cache.Config{m.namespace: {}}},
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

// setup registers the controllers. The maintenance and rolloutpolicy
// controllers share one rollout.InputsCache: they list the same profiles
// and RuleSources, so the merge is done once per change for both.
func (o *options) setup(ctx context.Context, mgr ctrl.Manager, clk clock.PassiveClock) error {
	if err := (&rulesource.Reconciler{
		SecretNamespace: o.manager.namespace,
		Clock:           clk,
		DefaultInterval: o.poll.interval,
		Jitter:          rulesource.JitterUpTo(o.poll.jitter),
	}).SetupWithManager(ctx, mgr, o.retry.controllerOptions(o.concurrency.ruleSource)); err != nil {
		return fmt.Errorf("rulesource controller: %w", err)
	}
	inputs := &rollout.InputsCache{}
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
	return nil
}
