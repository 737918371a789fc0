package maintenance

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// affectedShoots maps a profile or RuleSource change to exactly the shoots
// whose decision it changes: those whose target (Falco version or pins)
// differs from what they run or from what their ShootRollout last
// recorded, or whose blocked state changes.
func (r *Reconciler) affectedShoots(ctx context.Context, _ client.Object) []ctrlreconcile.Request {
	log := ctrl.LoggerFrom(ctx)
	shoots := shoot.NewList()
	if err := r.Client.List(ctx, shoots, client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "listing shoots")
		return nil
	}
	rollouts, err := r.rolloutsByKey(ctx)
	if err != nil {
		log.Error(err, "listing ShootRollouts")
		return nil
	}
	in, ierr := r.inputs(ctx)
	now := r.Clock.Now()
	var reqs []ctrlreconcile.Request
	for i := range shoots.Items {
		u := &shoots.Items[i]
		f, ok, err := shoot.FalcoOf(u)
		if !ok || err != nil {
			continue
		}
		key := types.NamespacedName{Namespace: u.GetNamespace(), Name: u.GetName()}
		sr := rollouts[key]
		// Without usable inputs every shoot must say so; one without a
		// ShootRollout has not said anything yet.
		if ierr != nil || sr == nil || affected(sr, in, f, now, r.AllowForcedDowngrade) {
			reqs = append(reqs, ctrlreconcile.Request{NamespacedName: key})
		}
	}
	return reqs
}

// affected reports whether the shoot running f must be reconciled because
// its decision differs from what its ShootRollout sr recorded.
func affected(sr *falcopsv1alpha1.ShootRollout, in *rollout.Inputs, f *shoot.FalcoConfig,
	now time.Time, allowDowngrade bool,
) bool {
	d, err := rollout.Target(in, f, now, allowDowngrade)
	var blocked *rollout.Blocked
	switch {
	case errors.As(err, &blocked):
		return sr.Status.Reason != blocked.Reason() || sr.Status.Message != blocked.Message
	case err != nil:
		return true
	}
	return d.Changed || sr.Status.TargetFalcoVersion != d.Version || !samePins(sr.Status.Rulesets, d.Pins) ||
		sr.Status.Reason == falcopsv1alpha1.ReasonNoProfile || reconcile.IsTrue(sr, falcopsv1alpha1.StalledCondition)
}

// samePins reports whether the recorded targets are exactly pins.
func samePins(recorded []falcopsv1alpha1.RulesetPin, pins []servicev1alpha1.PinnedRuleset) bool {
	i := 0
	for _, r := range recorded {
		if r.TargetDigest == "" {
			continue
		}
		if i >= len(pins) || r.Name != pins[i].Name || r.TargetVersion != pins[i].Version ||
			r.TargetDigest != pins[i].Digest() {
			return false
		}
		i++
	}
	return i == len(pins)
}

// waitingShoots maps a RolloutPolicy change to the shoots that wait for a
// wave, a halted rollout or a window (a halt changes what they wait for).
func (r *Reconciler) waitingShoots(ctx context.Context, _ client.Object) []ctrlreconcile.Request {
	rollouts, err := r.rolloutsByKey(ctx)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing ShootRollouts")
		return nil
	}
	var reqs []ctrlreconcile.Request
	for key, sr := range rollouts {
		switch sr.Status.Reason {
		case falcopsv1alpha1.ReasonWaitingForWave, falcopsv1alpha1.ReasonRolloutHalted, falcopsv1alpha1.ReasonWaitingForMaintenanceWindow:
			reqs = append(reqs, ctrlreconcile.Request{NamespacedName: key})
		}
	}
	return reqs
}

func (r *Reconciler) rolloutsByKey(ctx context.Context) (map[types.NamespacedName]*falcopsv1alpha1.ShootRollout, error) {
	var list falcopsv1alpha1.ShootRolloutList
	if err := r.Client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	m := make(map[types.NamespacedName]*falcopsv1alpha1.ShootRollout, len(list.Items))
	for i := range list.Items {
		sr := &list.Items[i]
		m[types.NamespacedName{Namespace: sr.Namespace, Name: sr.Name}] = sr
	}
	if r.status != nil {
		r.status.overlay(m)
	}
	return m, nil
}
