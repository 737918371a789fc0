package maintenance

import (
	"context"
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/rollout"
)

// checkConfig stalls on a providerConfig the strict decoder rejects.
func (r *Reconciler) checkConfig(_ context.Context, s *scope) error {
	if s.view.Err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidProviderConfig, "%v", s.view.Err)
	}
	return nil
}

// reconcileInputs reads the shared inputs: the merged profiles and the
// RuleSources.
func (r *Reconciler) reconcileInputs(ctx context.Context, s *scope) error {
	in, err := r.inputs(ctx)
	if err != nil {
		return err
	}
	s.inputs = in
	s.position.Revision = in.Revision
	return nil
}

// reconcileWave finds the shoot's wave in the rollout policy.
func (r *Reconciler) reconcileWave(ctx context.Context, s *scope) error {
	policy, err := r.policy(ctx)
	if err != nil {
		return err
	}
	waves, err := rollout.NewWaves(policy)
	if err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec, "RolloutPolicy %s: %v", r.RolloutPolicy, err)
	}
	wave := waves.Of(s.view.Namespace, s.view.Name, s.view.Labels)
	s.position.Policy, s.position.Wave, s.position.WaveName = policy, wave, waves.Name(wave)
	return nil
}

// reconcileTarget decides what the shoot should run.
func (r *Reconciler) reconcileTarget(_ context.Context, s *scope) error {
	d, err := rollout.Target(s.inputs, s.falco, s.now, r.AllowForcedDowngrade)
	var blocked *rollout.Blocked
	if errors.As(err, &blocked) {
		r.eventOnTransition(s, corev1.EventTypeWarning, blocked.Reason(), blocked.Message)
	}
	if err != nil {
		return err
	}
	s.decision, s.decided = d, true
	s.reason, s.message = d.Reason, d.Message
	if !d.Changed {
		s.reason = falcopsv1alpha1.ReasonUpToDate
		if keepLastChange(s.before, d) {
			// Say why the shoot last moved for as long as it runs that
			// target, and do not rewrite the ShootRollout for nothing.
			s.reason, s.message = s.before.Status.Reason, s.before.Status.Message
		}
	}
	return nil
}

// reconcileAdmission lets a change through now, or waits for what it
// waits for (a halt, its wave, its window).
func (r *Reconciler) reconcileAdmission(_ context.Context, s *scope) error {
	if !s.decision.Changed {
		return nil
	}
	a := rollout.Admit(s.decision, s.view, s.position, s.now)
	if !a.Admitted {
		return reconcile.Wait(a.Reason, a.RequeueAfter, "%s", a.Message)
	}
	s.reason, s.message = a.Reason, a.Message
	return nil
}

// appliedReasons are the reasons of a change the controller made.
var appliedReasons = []string{
	falcopsv1alpha1.ReasonAutoUpdate, falcopsv1alpha1.ReasonRulesetUpdate, falcopsv1alpha1.ReasonRulesetRollback, falcopsv1alpha1.ReasonMaintainOperation,
	falcopsv1alpha1.ReasonForcedExpired, falcopsv1alpha1.ReasonForcedRemoved,
}

// keepLastChange reports whether the ShootRollout recorded a change to
// exactly the target the shoot now runs.
func keepLastChange(before *falcopsv1alpha1.ShootRollout, d rollout.Decision) bool {
	st := before.Status
	if !slices.Contains(appliedReasons, st.Reason) || st.TargetFalcoVersion != d.Version || len(st.Rulesets) != len(d.Pins) {
		return false
	}
	for i, pin := range d.Pins {
		if st.Rulesets[i].Name != pin.Name || st.Rulesets[i].TargetDigest != pin.Digest() {
			return false
		}
	}
	return true
}

// eventOnTransition records an event only when the shoot's state changes
// to reason, never on every reconcile.
func (r *Reconciler) eventOnTransition(s *scope, typ, reason, message string) {
	if s.before.Status.Reason == reason && s.before.Status.Message == message {
		return
	}
	r.Recorder.Eventf(s.shoot, nil, typ, reason, "Decide", "%s", message)
}

// inputs lists the profiles and RuleSources from the cache (without
// copying: the Inputs are read-only) and returns their shared Inputs.
func (r *Reconciler) inputs(ctx context.Context) (*rollout.Inputs, error) {
	var profiles profilev1alpha1.FalcoProfileList
	if err := r.Client.List(ctx, &profiles, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var sources falcopsv1alpha1.RuleSourceList
	if err := r.Client.List(ctx, &sources, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return r.Inputs.For(profiles.Items, sources.Items)
}

// policy returns the RolloutPolicy, nil when there is none.
func (r *Reconciler) policy(ctx context.Context) (*falcopsv1alpha1.RolloutPolicy, error) {
	if r.RolloutPolicy == "" {
		return nil, nil
	}
	p := &falcopsv1alpha1.RolloutPolicy{}
	err := r.Client.Get(ctx, types.NamespacedName{Name: r.RolloutPolicy}, p)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return p, err
}
