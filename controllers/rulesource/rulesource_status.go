package rulesource

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/Masterminds/semver/v3"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
)

// finish computes the status from what the reconcile observed, writes it
// with one patch when it changed, emits the events of its transitions and
// maps err to the result.
func (r *Reconciler) finish(ctx context.Context, s *scope, err error) (ctrl.Result, error) {
	out := r.computeStatus(s, err)
	if !equality.Semantic.DeepEqual(s.orig.Status, s.obj.Status) {
		if perr := r.Client.Status().Patch(ctx, s.obj, client.MergeFrom(s.orig)); perr != nil {
			return ctrl.Result{}, fmt.Errorf("patching the status of RuleSource %s: %w", s.obj.Name, perr)
		}
		r.notify(ctx, s)
	}
	// Remembered only once the status holds what the poll found: a failed
	// patch repeats the rebuild.
	if s.commit {
		s.memo.failures = 0
		if s.rebuilt {
			s.memo.built, s.memo.generation, s.memo.keySum = true, s.obj.Generation, s.keySum
		}
	}
	return out.Result, out.Err
}

// computeStatus sets the status data (only when the poll completed: a
// registry failure keeps the last good data) and every owned condition, and
// maps err to what Reconcile returns.
func (r *Reconciler) computeStatus(s *scope, err error) reconcile.Outcome {
	o, st := s.obj, &s.obj.Status
	if s.commit {
		st.Versions, st.Latest, st.Rejected = s.versions, s.latest, s.rejected
		st.Floor = floor(st.Floor, st.Versions, s.follow)
	}

	reconcile.InitUnknown(o, falcopsv1alpha1.ResolvedCondition, falcopsv1alpha1.ReasonProgressing, "the followed tag has not been resolved yet")
	reconcile.InitUnknown(o, falcopsv1alpha1.VerifiedCondition, falcopsv1alpha1.ReasonProgressing, "no digest has been verified yet")
	switch {
	case s.unavailable != nil:
		reconcile.MarkFalse(o, falcopsv1alpha1.ResolvedCondition, falcopsv1alpha1.ReasonRegistryUnavailable,
			fmt.Sprintf("registry unavailable: %v", s.unavailable))
	case s.tagNotFound:
		reconcile.MarkFalse(o, falcopsv1alpha1.ResolvedCondition, falcopsv1alpha1.ReasonTagNotFound,
			fmt.Sprintf("tag %s not found in %s", s.follow, s.repo))
	case s.headVersion != nil && below(s.headVersion.Version, st.Floor):
		reconcile.MarkTrue(o, falcopsv1alpha1.ResolvedCondition, falcopsv1alpha1.ReasonTagBelowFloor,
			fmt.Sprintf("%s resolves to %s, version %s, below the floor %s: a deleted or moved-back tag never lowers what shoots run; set spec.rollbackTo to roll back",
				s.ref, s.head, s.headVersion.Version, st.Floor))
	case s.head != "":
		reconcile.MarkTrue(o, falcopsv1alpha1.ResolvedCondition, falcopsv1alpha1.ReasonDigestResolved,
			fmt.Sprintf("%s resolves to %s", s.ref, s.head))
	}
	switch {
	case s.keyProblem != "":
		reconcile.MarkFalse(o, falcopsv1alpha1.VerifiedCondition, falcopsv1alpha1.ReasonKeyMissing, s.keyProblem)
	case s.headVersion != nil:
		reconcile.MarkTrue(o, falcopsv1alpha1.VerifiedCondition, falcopsv1alpha1.ReasonSignatureVerified,
			fmt.Sprintf("%s %s (%s) is signed with %s", o.Spec.Ruleset, s.headVersion.Version, s.headVersion.Digest, s.keySource()))
	case s.headRejected != nil:
		reconcile.MarkFalse(o, falcopsv1alpha1.VerifiedCondition, s.headRejected.Reason, s.headRejected.Message)
	}

	okMessage := ""
	if l := st.Latest; l != nil {
		okMessage = fmt.Sprintf("%s %s (%s) verified; %d versions listed", o.Spec.Ruleset, l.Version, l.Digest, len(st.Versions))
	}
	out := reconcile.Summarize(o, err, reconcile.Success{
		Reason: falcopsv1alpha1.ReasonSucceeded, Message: okMessage, Result: ctrl.Result{RequeueAfter: r.Jitter(s.interval)},
	})
	if err == nil {
		st.ObservedGeneration = o.Generation
	}
	return out
}

// floor is the highest version listed or recorded before, within the
// followed line (an operator who follows another line starts a new floor).
func floor(old string, versions []falcopsv1alpha1.RulesetVersion, follow string) string {
	best := ""
	if inFollowedLine(old, follow) {
		best = old
	}
	for _, v := range versions {
		if best == "" || below(best, v.Version) {
			best = v.Version
		}
	}
	return best
}

// below reports whether version a is lower than b (false when either does
// not parse).
func below(a, b string) bool {
	va, err := semver.StrictNewVersion(a)
	if err != nil {
		return false
	}
	vb, err := semver.StrictNewVersion(b)
	return err == nil && va.LessThan(vb)
}

// notify emits the events of the status transitions: a new latest
// version, a newly rejected digest, the registry becoming unavailable, a
// stall. A poll that changes nothing emits nothing.
func (r *Reconciler) notify(ctx context.Context, s *scope) {
	old, cur := s.orig, s.obj
	if l := cur.Status.Latest; l != nil && (old.Status.Latest == nil || old.Status.Latest.Digest != l.Digest) {
		r.event(ctx, cur, corev1.EventTypeNormal, falcopsv1alpha1.ReasonDigestResolved,
			"%s %s verified %s", cur.Spec.Ruleset, l.Version, l.Digest)
	}
	if rej := cur.Status.Rejected; rej != nil && (old.Status.Rejected == nil ||
		old.Status.Rejected.Digest != rej.Digest || old.Status.Rejected.Reason != rej.Reason) {
		r.event(ctx, cur, corev1.EventTypeWarning, rej.Reason, "%s", rej.Message)
	}
	if c := became(old, cur, falcopsv1alpha1.ResolvedCondition, metav1.ConditionFalse, falcopsv1alpha1.ReasonRegistryUnavailable); c != nil {
		r.event(ctx, cur, corev1.EventTypeWarning, c.Reason, "%s", c.Message)
	}
	if c := reconcile.GetCondition(cur, falcopsv1alpha1.StalledCondition); c != nil && c.Status == metav1.ConditionTrue {
		if p := reconcile.GetCondition(old, falcopsv1alpha1.StalledCondition); p == nil || p.Status != c.Status || p.Reason != c.Reason || p.Message != c.Message {
			r.event(ctx, cur, corev1.EventTypeWarning, c.Reason, "%s", c.Message)
		}
	}
}

// became returns condition typ of cur if it now has status and reason
// and did not before: the transition an event is recorded for.
func became(old, cur reconcile.Object, typ string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	c := reconcile.GetCondition(cur, typ)
	if c == nil || c.Status != status || c.Reason != reason {
		return nil
	}
	if p := reconcile.GetCondition(old, typ); p != nil && p.Status == status && p.Reason == reason {
		return nil
	}
	return c
}

// event logs a state change and records it as an event with the same
// message.
func (r *Reconciler) event(ctx context.Context, o *falcopsv1alpha1.RuleSource, typ, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	ctrl.LoggerFrom(ctx).Info(msg, "reason", reason, "type", typ)
	if r.Recorder != nil {
		r.Recorder.Eventf(o, nil, typ, reason, "Reconcile", "%s", msg)
	}
}
