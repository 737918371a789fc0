package maintenance

import (
	"context"
	"errors"
	"slices"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/plan"
	"github.com/falcops/falcops/internal/shoot"
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
	in, _, ierr := r.inputs(ctx)
	in.Now = r.Clock.Now()
	in.AllowDowngrade = r.AllowForcedDowngrade
	var reqs []ctrlreconcile.Request
	for i := range shoots.Items {
		u := &shoots.Items[i]
		f, ok, err := shoot.FalcoOf(u)
		if !ok || err != nil {
			continue
		}
		key := types.NamespacedName{Namespace: u.GetNamespace(), Name: u.GetName()}
		sr := rollouts[key]
		if ierr != nil || sr == nil {
			// No usable profile: every shoot must say so.
			reqs = append(reqs, ctrlreconcile.Request{NamespacedName: key})
			continue
		}
		in.Falco = f
		p, err := plan.Compute(in)
		var blocked *plan.Blocked
		switch {
		case errors.As(err, &blocked):
			if sr.Status.Reason != blocked.Reason || sr.Status.Message != blocked.Message {
				reqs = append(reqs, ctrlreconcile.Request{NamespacedName: key})
			}
		case err != nil:
			reqs = append(reqs, ctrlreconcile.Request{NamespacedName: key})
		case p.Changed || sr.Status.TargetFalcoVersion != p.Version || !samePins(sr.Status.Rulesets, p) ||
			sr.Status.Reason == falcopsv1alpha1.ReasonNoProfile || isTrue(sr.Status.Conditions, falcopsv1alpha1.StalledCondition):
			reqs = append(reqs, ctrlreconcile.Request{NamespacedName: key})
		}
	}
	return reqs
}

func samePins(recorded []falcopsv1alpha1.RulesetPin, p plan.Plan) bool {
	var targets []falcopsv1alpha1.RulesetPin
	for _, r := range recorded {
		if r.TargetDigest != "" {
			targets = append(targets, falcopsv1alpha1.RulesetPin{Name: r.Name, TargetVersion: r.TargetVersion, TargetDigest: r.TargetDigest})
		}
	}
	var want []falcopsv1alpha1.RulesetPin
	for _, pin := range p.Pins {
		want = append(want, falcopsv1alpha1.RulesetPin{Name: pin.Name, TargetVersion: pin.Version, TargetDigest: digestOf(pin.Ref)})
	}
	return slices.Equal(targets, want)
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
