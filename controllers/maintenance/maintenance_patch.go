package maintenance

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// reconcilePatch patches an admitted change into the shoot with an
// optimistic lock: a concurrent edit makes the patch fail with a conflict
// instead of being overwritten, and the shoot is reconciled again from its
// new state.
func (r *Reconciler) reconcilePatch(ctx context.Context, s *scope) error {
	if !s.decision.Changed {
		return nil
	}
	orig := s.shoot.DeepCopy()
	if err := shoot.SetFalco(s.shoot, s.decision.Version, s.decision.Pins); err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidProviderConfig, "%v", err)
	}
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := r.Client.Patch(ctx, s.shoot, patch); err != nil {
		if apierrors.IsConflict(err) {
			return reconcile.Retry(falcopsv1alpha1.ReasonPatchFailed, fmt.Errorf("shoot changed while it was being patched, retrying: %w", err))
		}
		return reconcile.Retry(falcopsv1alpha1.ReasonPatchFailed, fmt.Errorf("patching the shoot: %w", err))
	}
	r.status.patched()
	desc := rollout.Describe(s.falco, s.decision)
	s.applied = true
	s.falco.Version, s.falco.Pins = s.decision.Version, s.decision.Pins
	s.message = fmt.Sprintf("%s: %s", desc, s.message)
	r.Recorder.Eventf(s.shoot, nil, corev1.EventTypeNormal, s.reason, "Update", "%s", s.message)
	ctrl.LoggerFrom(ctx).Info("updated Falco", "falcoVersion", s.decision.Version, "change", desc, "reason", s.reason)
	r.metrics.applied(s.reason)
	return nil
}
