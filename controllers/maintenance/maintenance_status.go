package maintenance

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/shoot"
)

// finish computes the ShootRollout from the scope and the reconcile outcome
// and hands it to the status writer when it changed (or was never
// created): one write per change, off the reconcile path. It maps err to
// what Reconcile returns.
func (r *Reconciler) finish(_ context.Context, s *scope, err error) (ctrl.Result, error) {
	out := r.computeStatus(s, err)
	if !s.exists || !equality.Semantic.DeepEqual(s.before.Status, s.rollout.Status) {
		r.status.set(s.rollout)
	}
	r.metrics.observe(types.NamespacedName{Namespace: s.view.Namespace, Name: s.view.Name}, s.falco)
	return out.Result, out.Err
}

// computeStatus sets the ShootRollout's status from the scope: what the
// shoot runs, its target, wave and revision, and every owned condition.
func (r *Reconciler) computeStatus(s *scope, err error) reconcile.Outcome {
	sr := s.rollout
	st := &sr.Status
	st.ObservedGeneration = s.shoot.GetGeneration()
	st.FalcoVersion = s.falco.Version
	st.Wave = s.position.WaveName
	if s.position.Revision != "" {
		st.Revision = s.position.Revision
	}
	st.TargetFalcoVersion, st.Rulesets = s.falco.Version, rulesetPins(s.falco.Pins, s.falco.Pins)
	if s.decided {
		st.TargetFalcoVersion, st.Rulesets = s.decision.Version, rulesetPins(s.falco.Pins, s.decision.Pins)
	}
	if s.applied {
		now := metav1.NewTime(s.now)
		st.LastTransitionTime = &now
	}

	out := reconcile.Summarize(sr, err, reconcile.Success{Reason: s.reason, Message: s.message})
	st.Reason, st.Message = out.Reason, out.Message
	setUpToDate(sr, out)
	setRollingOut(sr, s, out)
	// Conditions observe the shoot's generation (the ShootRollout's own
	// generation moves with every write of it).
	for i := range st.Conditions {
		st.Conditions[i].ObservedGeneration = s.shoot.GetGeneration()
	}

	if !s.exists {
		sr.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: shoot.GVK.GroupVersion().String(),
			Kind:       shoot.GVK.Kind,
			Name:       s.shoot.GetName(),
			UID:        s.shoot.GetUID(),
		}}
	}
	return out
}

// setUpToDate: True when the shoot runs its target.
func setUpToDate(sr *falcopsv1alpha1.ShootRollout, out reconcile.Outcome) {
	if out.Ready {
		reconcile.MarkTrue(sr, falcopsv1alpha1.UpToDateCondition, falcopsv1alpha1.ReasonUpToDate, "the shoot runs its target")
		return
	}
	reconcile.MarkFalse(sr, falcopsv1alpha1.UpToDateCondition, out.Reason, out.Message)
}

// setRollingOut: True while a decided change waits or is being applied.
func setRollingOut(sr *falcopsv1alpha1.ShootRollout, s *scope, out reconcile.Outcome) {
	switch {
	case out.Ready:
		reconcile.MarkFalse(sr, falcopsv1alpha1.RollingOutCondition, falcopsv1alpha1.ReasonUpToDate, "nothing to roll out")
	case s.decided && s.decision.Changed:
		reconcile.MarkTrue(sr, falcopsv1alpha1.RollingOutCondition, out.Reason, out.Message)
	default:
		reconcile.MarkFalse(sr, falcopsv1alpha1.RollingOutCondition, out.Reason, out.Message)
	}
}

// rulesetPins pairs current and target pins by ruleset name, in target
// order.
func rulesetPins(current, target []servicev1alpha1.PinnedRuleset) []falcopsv1alpha1.RulesetPin {
	var out []falcopsv1alpha1.RulesetPin
	at := func(name string) *falcopsv1alpha1.RulesetPin {
		i := slices.IndexFunc(out, func(p falcopsv1alpha1.RulesetPin) bool { return p.Name == name })
		if i < 0 {
			out = append(out, falcopsv1alpha1.RulesetPin{Name: name})
			i = len(out) - 1
		}
		return &out[i]
	}
	for _, t := range target {
		p := at(t.Name)
		p.TargetVersion, p.TargetDigest = t.Version, t.Digest()
	}
	for _, c := range current {
		p := at(c.Name)
		p.Version, p.Digest = c.Version, c.Digest()
	}
	return out
}
