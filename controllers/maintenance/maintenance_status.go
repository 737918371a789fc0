package maintenance

import (
	"errors"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/conditions"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/internal/shoot"
)

// writeStatus computes the ShootRollout from the scope and the reconcile
// outcome and hands it to the status writer when it changed (or was never
// created): one write per change, off the reconcile path.
func (r *Reconciler) writeStatus(s *scope, exists bool, rerr error) {
	sr := s.rollout
	st := &sr.Status
	st.ObservedGeneration = s.shoot.GetGeneration()
	st.FalcoVersion = s.falco.Version
	st.Wave = s.wave
	if s.revision != "" {
		st.Revision = s.revision
	}
	if s.planned {
		st.TargetFalcoVersion = s.plan.Version
		st.Rulesets = pins(s.falco.Pins, s.plan.Pins)
	} else {
		st.TargetFalcoVersion = s.falco.Version
		st.Rulesets = pins(s.falco.Pins, s.falco.Pins)
	}
	if s.applied {
		now := metav1.NewTime(s.now)
		st.LastTransitionTime = &now
	}

	out := reconcile.Summarize(sr, rerr, s.reason, s.message)
	st.Reason, st.Message = out.Reason, out.Message
	var stall *reconcile.Stalling
	if rerr != nil && !errors.As(rerr, &stall) && out.Reason == "Failed" {
		st.Reason = falcopsv1alpha1.ReasonFailed
	}

	upToDate := rerr == nil
	switch {
	case upToDate:
		conditions.True(sr, falcopsv1alpha1.UpToDateCondition, falcopsv1alpha1.ReasonUpToDate, "the shoot runs its target")
		conditions.False(sr, falcopsv1alpha1.RollingOutCondition, falcopsv1alpha1.ReasonUpToDate, "nothing to roll out")
	case s.planned && s.plan.Changed:
		conditions.False(sr, falcopsv1alpha1.UpToDateCondition, out.Reason, out.Message)
		conditions.True(sr, falcopsv1alpha1.RollingOutCondition, out.Reason, out.Message)
	default:
		conditions.False(sr, falcopsv1alpha1.UpToDateCondition, out.Reason, out.Message)
		conditions.False(sr, falcopsv1alpha1.RollingOutCondition, out.Reason, out.Message)
	}

	// Conditions observe the shoot's generation (the ShootRollout's own
	// generation moves with every write of it).
	for i := range st.Conditions {
		st.Conditions[i].ObservedGeneration = s.shoot.GetGeneration()
	}

	if !exists {
		sr.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: shoot.GVK.GroupVersion().String(),
			Kind:       shoot.GVK.Kind,
			Name:       s.shoot.GetName(),
			UID:        s.shoot.GetUID(),
		}}
	}
	if exists && equality.Semantic.DeepEqual(s.before.Status, sr.Status) {
		return
	}
	r.status.set(sr)
}

// pins pairs current and target pins by ruleset name, in target order.
func pins(current, target []servicev1alpha1.PinnedRuleset) []falcopsv1alpha1.RulesetPin {
	var out []falcopsv1alpha1.RulesetPin
	seen := map[string]bool{}
	add := func(name string) *falcopsv1alpha1.RulesetPin {
		if !seen[name] {
			seen[name] = true
			out = append(out, falcopsv1alpha1.RulesetPin{Name: name})
		}
		i := slices.IndexFunc(out, func(p falcopsv1alpha1.RulesetPin) bool { return p.Name == name })
		return &out[i]
	}
	for _, t := range target {
		p := add(t.Name)
		p.TargetVersion, p.TargetDigest = t.Version, digestOf(t.Ref)
	}
	for _, c := range current {
		p := add(c.Name)
		p.Version, p.Digest = c.Version, digestOf(c.Ref)
	}
	return out
}

func digestOf(ref string) string {
	if i := lastAt(ref); i >= 0 {
		return ref[i+1:]
	}
	return ""
}

func lastAt(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return i
		}
	}
	return -1
}

func isTrue(cs []metav1.Condition, typ string) bool { return meta.IsStatusConditionTrue(cs, typ) }
