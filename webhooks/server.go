package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/rollout"
)

// Register serves the three webhooks on mgr's webhook server and adds the
// readiness check "webhooks", which fails until the caches the webhooks
// read (FalcoProfiles, RuleSources, ShootRollouts, Namespaces, Projects)
// synced and the server listens. o.Garden and o.Inputs default to the
// manager's cache, o.ConfigMaps to its uncached reader and
// o.ControllerUser to the manager's own identity (a SelfSubjectReview).
func Register(ctx context.Context, mgr ctrl.Manager, o *Options) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &falcopsv1alpha1.ShootRollout{}, IndexFalcoVersion, FalcoVersionOf); err != nil {
		return fmt.Errorf("index %s: %w", IndexFalcoVersion, err)
	}
	if o.Garden == nil {
		o.Garden = mgr.GetClient()
	}
	if o.ConfigMaps == nil {
		o.ConfigMaps = mgr.GetAPIReader()
	}
	if o.Inputs == nil {
		o.Inputs = CachedInputs(o.Garden, &rollout.InputsCache{Operator: o.Operator})
	}
	if o.ControllerUser == "" {
		user, err := whoAmI(ctx, mgr)
		if err != nil {
			return fmt.Errorf("the controller's own username (for rules.pinned): %w", err)
		}
		o.ControllerUser = user
	}
	srv := mgr.GetWebhookServer()
	srv.Register(MutatePath, &webhook.Admission{Handler: Mutator{o}})
	srv.Register(ValidatePath, &webhook.Admission{Handler: Validator{o}})
	srv.Register(ProfilePath, &webhook.Admission{Handler: ProfileValidator{o}})
	return mgr.AddReadyzCheck("webhooks", readiness(mgr))
}

// CachedInputs merges the FalcoProfiles and RuleSources r lists, once per
// change of them.
func CachedInputs(r client.Reader, c *rollout.InputsCache) func(context.Context) (*rollout.Inputs, error) {
	return func(ctx context.Context) (*rollout.Inputs, error) {
		var profiles profilev1alpha1.FalcoProfileList
		if err := r.List(ctx, &profiles); err != nil {
			return nil, err
		}
		var sources falcopsv1alpha1.RuleSourceList
		if err := r.List(ctx, &sources); err != nil {
			return nil, err
		}
		return c.For(profiles.Items, sources.Items)
	}
}

// readiness passes once every informer the webhooks read has synced and
// the webhook server has started.
func readiness(mgr ctrl.Manager) healthz.Checker {
	var synced atomic.Bool
	started := mgr.GetWebhookServer().StartedChecker()
	return func(req *http.Request) error {
		if !synced.Load() {
			for _, obj := range []client.Object{&profilev1alpha1.FalcoProfile{}, &falcopsv1alpha1.RuleSource{},
				&falcopsv1alpha1.ShootRollout{}, &corev1.Namespace{}, &gardencorev1beta1.Project{}} {
				inf, err := mgr.GetCache().GetInformer(req.Context(), obj, cache.BlockUntilSynced(false))
				if err != nil {
					return fmt.Errorf("caches not started: %w", err)
				}
				if !inf.HasSynced() {
					return errors.New("caches not synced yet")
				}
			}
			synced.Store(true)
		}
		return started(req)
	}
}

// whoAmI asks the API server who the manager is.
func whoAmI(ctx context.Context, mgr ctrl.Manager) (string, error) {
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return "", err
	}
	r := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, r); err != nil {
		return "", err
	}
	return r.Status.UserInfo.Username, nil
}
