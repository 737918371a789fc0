package rolloutpolicy

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
)

// finish computes the status from what the reconcile observed, emits the
// event of a Ready transition, writes the status with one patch when it
// changed and maps err to the result.
func (r *Reconciler) finish(ctx context.Context, s *scope, err error) (ctrl.Result, error) {
	p := s.policy
	if s.haltChecked {
		setHalted(p, s.halt)
	}
	out := reconcile.Summarize(p, err, reconcile.Success{Reason: falcopsv1alpha1.ReasonComplete, Message: "every wave is done"})
	if err == nil {
		p.Status.ObservedGeneration = p.Generation
	}
	r.notify(s, out)
	if !equality.Semantic.DeepEqual(s.before.Status, p.Status) {
		if perr := r.Client.Status().Patch(ctx, p, client.MergeFrom(s.before)); perr != nil {
			return ctrl.Result{}, errors.Join(err, perr)
		}
	}
	return out.Result, out.Err
}

// setHalted: True, with the halt's reason, while the rollout is halted.
func setHalted(p *falcopsv1alpha1.RolloutPolicy, h *halt) {
	if h != nil {
		reconcile.MarkTrue(p, falcopsv1alpha1.HaltedCondition, h.reason, h.message)
		return
	}
	reconcile.MarkFalse(p, falcopsv1alpha1.HaltedCondition, falcopsv1alpha1.ReasonProgressing, "not halted")
}

// notify records an event when the Ready reason changes: a warning for a
// stall or too many failed shoots.
func (r *Reconciler) notify(s *scope, out reconcile.Outcome) {
	if c := reconcile.GetCondition(s.before, falcopsv1alpha1.ReadyCondition); c != nil && c.Reason == out.Reason {
		return
	}
	typ := corev1.EventTypeNormal
	if out.Stalled || out.Reason == falcopsv1alpha1.ReasonTooManyFailed {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(s.policy, nil, typ, out.Reason, "Rollout", "%s", out.Message)
}
