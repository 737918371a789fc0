package falcoprofile

import (
	"context"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
)

// name is the controller's name in logs and metrics.
const name = "falcoprofile"

// Debounce is how long ShootRollout changes are collected before the
// shoots are counted again: one rollout moves thousands of them.
const Debounce = time.Second

// maxMessage keeps the condition's message under the API's limit (32768).
const maxMessage = 32000

// Reconciler writes FalcoProfile status.
type Reconciler struct {
	// Client reads profiles and ShootRollouts (from the cache) and patches
	// profile status (default: the manager's client).
	Client client.Client
	// Clock is the time source (default: the real clock).
	Clock clock.PassiveClock
}

// SetupWithManager registers the controller. Any profile change
// re-checks every profile (they are merged); a ShootRollout whose Falco
// version changes re-counts them, at most once per Debounce.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager, opts controller.Options) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		Watches(&profilev1alpha1.FalcoProfile{}, r.allProfiles(0, nil), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&falcopsv1alpha1.ShootRollout{}, r.allProfiles(Debounce, versionChanged)).
		WithOptions(opts).
		Complete(r)
}

// versionChanged passes ShootRollout updates that change the Falco
// version a shoot runs.
func versionChanged(e event.UpdateEvent) bool {
	o, ok1 := e.ObjectOld.(*falcopsv1alpha1.ShootRollout)
	n, ok2 := e.ObjectNew.(*falcopsv1alpha1.ShootRollout)
	return !ok1 || !ok2 || o.Status.FalcoVersion != n.Status.FalcoVersion
}

// allProfiles enqueues every profile after delay; updates only when
// update passes (nil: all).
func (r *Reconciler) allProfiles(delay time.Duration, update func(event.UpdateEvent) bool) handler.Funcs {
	type queue = workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]
	add := func(ctx context.Context, q queue) {
		var list profilev1alpha1.FalcoProfileList
		if err := r.Client.List(ctx, &list); err != nil {
			return
		}
		for _, p := range list.Items {
			q.AddAfter(ctrlreconcile.Request{NamespacedName: types.NamespacedName{Name: p.Name}}, delay)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, _ event.CreateEvent, q queue) { add(ctx, q) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			if update == nil || update(e) {
				add(ctx, q)
			}
		},
		DeleteFunc: func(ctx context.Context, _ event.DeleteEvent, q queue) { add(ctx, q) },
	}
}

// Reconcile writes one profile's status, and comes back when the next
// expiration date of any profile passes (validity depends on the time).
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var list profilev1alpha1.FalcoProfileList
	if err := r.Client.List(ctx, &list); err != nil {
		return ctrl.Result{}, err
	}
	i := slices.IndexFunc(list.Items, func(p profilev1alpha1.FalcoProfile) bool { return p.Name == req.Name })
	if i < 0 {
		return ctrl.Result{}, nil
	}
	profile := &list.Items[i]
	var rollouts falcopsv1alpha1.ShootRolloutList
	if err := r.Client.List(ctx, &rollouts, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	status := Compute(profile, list.Items, rollouts.Items, now)
	// lastTransitionTime stays while the condition's status does.
	var conds []metav1.Condition
	if profile.Status != nil {
		conds = slices.Clone(profile.Status.Conditions)
	}
	meta.SetStatusCondition(&conds, status.Conditions[0])
	status.Conditions = conds
	if profile.Status == nil || !equality.Semantic.DeepEqual(*profile.Status, *status) {
		patched := profile.DeepCopy()
		patched.Status = status
		if err := r.Client.Status().Patch(ctx, patched, client.MergeFrom(profile)); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{RequeueAfter: nextExpiry(list.Items, now)}, nil
}

// Compute is a profile's status: Valid for the merged profiles at now, and
// the shoots per Falco version it lists.
func Compute(p *profilev1alpha1.FalcoProfile, all []profilev1alpha1.FalcoProfile, rollouts []falcopsv1alpha1.ShootRollout, now time.Time) *profilev1alpha1.Status {
	objs := make([]*profilev1alpha1.FalcoProfile, len(all))
	for i := range all {
		objs[i] = &all[i]
	}
	valid := metav1.Condition{Type: profilev1alpha1.ConditionValid, Status: metav1.ConditionTrue, Reason: "Valid",
		Message: "the merged profiles pass the lifecycle rules and offer a default version", ObservedGeneration: p.Generation,
		LastTransitionTime: metav1.NewTime(now)}
	if _, problems := lifecycle.Problems(objs, now); len(problems) > 0 {
		valid.Status, valid.Reason, valid.Message = metav1.ConditionFalse, "Invalid", strings.Join(problems, "; ")
		if len(valid.Message) > maxMessage {
			valid.Message = valid.Message[:maxMessage] + " ..."
		}
	}
	counts := map[string]int32{}
	for _, r := range rollouts {
		counts[r.Status.FalcoVersion]++
	}
	s := &profilev1alpha1.Status{ObservedGeneration: p.Generation, Conditions: []metav1.Condition{valid}}
	for _, v := range p.Spec.Versions.Falco {
		s.Shoots = append(s.Shoots, profilev1alpha1.VersionShoots{Version: v.Version, Shoots: counts[v.Version]})
	}
	return s
}

// nextExpiry is how long until the next expiration date of any profile
// passes (0: none is ahead).
func nextExpiry(all []profilev1alpha1.FalcoProfile, now time.Time) time.Duration {
	var next time.Duration
	for _, p := range all {
		for _, v := range p.Spec.Versions.Falco {
			if v.ExpirationDate == nil {
				continue
			}
			t, err := time.Parse(time.RFC3339, *v.ExpirationDate)
			if d := t.Sub(now); err == nil && d > 0 && (next == 0 || d < next) {
				next = d + time.Second
			}
		}
	}
	return next
}
