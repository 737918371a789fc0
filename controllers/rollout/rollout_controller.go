package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/conditions"
	"github.com/falcops/falcops/internal/plan"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/internal/shoot"
)

// Reconciler reconciles RolloutPolicies.
type Reconciler struct {
	Client   client.Client
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	// AllowForcedDowngrade must equal the maintenance controller's, so
	// both agree on which shoots are blocked.
	AllowForcedDowngrade bool
}

// Debounce is how long shoot and ShootRollout changes are collected before
// the policies are counted again: a rollout of thousands of shoots causes
// thousands of events, and counting lists every shoot.
const Debounce = time.Second

// SetupWithManager registers the controller. Every shoot, ShootRollout,
// profile and RuleSource change re-counts every policy, at most once per
// Debounce (the delaying queue folds a burst into one reconcile).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	all := r.debounced()
	return ctrl.NewControllerManagedBy(mgr).
		Named("rollout").
		For(&falcopsv1alpha1.RolloutPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(shoot.New(), all).
		Watches(&falcopsv1alpha1.ShootRollout{}, all).
		Watches(&profilev1alpha1.FalcoProfile{}, all).
		Watches(&falcopsv1alpha1.RuleSource{}, all).
		Complete(r)
}

// debounced enqueues every policy Debounce after an event.
func (r *Reconciler) debounced() handler.Funcs {
	add := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
		for _, req := range r.allPolicies(ctx, nil) {
			q.AddAfter(req, Debounce)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, _ event.CreateEvent, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
			add(ctx, q)
		},
		UpdateFunc: func(ctx context.Context, _ event.UpdateEvent, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
			add(ctx, q)
		},
		DeleteFunc: func(ctx context.Context, _ event.DeleteEvent, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
			add(ctx, q)
		},
	}
}

func (r *Reconciler) allPolicies(ctx context.Context, _ client.Object) []ctrlreconcile.Request {
	var list falcopsv1alpha1.RolloutPolicyList
	if err := r.Client.List(ctx, &list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing RolloutPolicies")
		return nil
	}
	reqs := make([]ctrlreconcile.Request, len(list.Items))
	for i, p := range list.Items {
		reqs[i] = ctrlreconcile.Request{NamespacedName: types.NamespacedName{Name: p.Name}}
	}
	return reqs
}

// Reconcile counts the waves and moves the rollout on.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx).WithValues("RolloutPolicy", klog.KRef("", req.Name))
	ctx = ctrl.LoggerInto(ctx, log)
	p := &falcopsv1alpha1.RolloutPolicy{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := p.DeepCopy()
	err := r.reconcile(ctx, p)
	out := reconcile.Summarize(p, err, falcopsv1alpha1.ReasonComplete, "every wave is done")
	if err == nil {
		p.Status.ObservedGeneration = p.Generation
	}
	if out.Reason != conditionReason(before) {
		typ := "Normal"
		if out.Stalled || out.Reason == falcopsv1alpha1.ReasonTooManyFailed {
			typ = "Warning"
		}
		r.Recorder.Eventf(p, nil, typ, out.Reason, "Rollout", "%s", out.Message)
	}
	if !equality.Semantic.DeepEqual(before.Status, p.Status) {
		if perr := r.Client.Status().Patch(ctx, p, client.MergeFrom(before)); perr != nil {
			return ctrl.Result{}, errors.Join(err, perr)
		}
	}
	return reconcile.Result(err, ctrl.Result{})
}

func conditionReason(p *falcopsv1alpha1.RolloutPolicy) string {
	if c := conditions.Get(p, falcopsv1alpha1.ReadyCondition); c != nil {
		return c.Reason
	}
	return ""
}

// counts is one wave's tally.
type counts struct{ shoots, pending, failed int }

func (r *Reconciler) reconcile(ctx context.Context, p *falcopsv1alpha1.RolloutPolicy) error {
	now := r.Clock.Now()
	waves, err := plan.NewWaves(p)
	if err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec, "%v", err)
	}
	in, revision, err := plan.Load(ctx, r.Client)
	var blocked *plan.Blocked
	if errors.As(err, &blocked) {
		return reconcile.Stall(blocked.Reason, "%s", blocked.Message)
	}
	if err != nil {
		return err
	}
	in.Now, in.AllowDowngrade = now, r.AllowForcedDowngrade
	tally, err := r.count(ctx, in, waves, revision)
	if err != nil {
		return err
	}

	st := &p.Status
	if st.Revision != revision {
		st.Revision, st.OpenWaves = revision, 1
		st.Waves = nil
	}
	if len(st.Waves) != waves.Len() {
		st.Waves = make([]falcopsv1alpha1.WaveStatus, waves.Len())
	}
	failed := 0
	for i := range st.Waves {
		w := &st.Waves[i]
		c := tally[i]
		w.Name = waves.Name(i)
		w.Shoots, w.UpToDate, w.Failed = int32(c.shoots), int32(c.shoots-c.pending), int32(c.failed)
		if c.pending > 0 {
			w.CompletedAt = nil
		} else if w.CompletedAt == nil && i < int(st.OpenWaves) {
			t := metav1.NewTime(now)
			w.CompletedAt = &t
		}
		failed += c.failed
	}

	switch {
	case p.Spec.Paused:
		conditions.True(p, falcopsv1alpha1.HaltedCondition, falcopsv1alpha1.ReasonPaused, "spec.paused is true")
	case p.Spec.MaxFailedShoots != nil && failed > int(*p.Spec.MaxFailedShoots):
		conditions.True(p, falcopsv1alpha1.HaltedCondition, falcopsv1alpha1.ReasonTooManyFailed, fmt.Sprintf(
			"%d shoots changed by revision %s report a failed last operation (maxFailedShoots %d)", failed, revision, *p.Spec.MaxFailedShoots))
	default:
		conditions.False(p, falcopsv1alpha1.HaltedCondition, falcopsv1alpha1.ReasonProgressing, "not halted")
	}
	if conditions.IsTrue(p, falcopsv1alpha1.HaltedCondition) {
		c := conditions.Get(p, falcopsv1alpha1.HaltedCondition)
		return reconcile.Wait(c.Reason, 0, "rollout halted: %s", c.Message)
	}

	// Open the next wave when the open ones are done and the pause passed.
	pause := time.Duration(0)
	if p.Spec.Pause != nil {
		pause = p.Spec.Pause.Duration
	}
	for int(st.OpenWaves) < waves.Len() {
		last := st.Waves[st.OpenWaves-1]
		if last.CompletedAt == nil {
			break
		}
		if wait := last.CompletedAt.Add(pause).Sub(now); wait > 0 {
			st.CurrentWave = waves.Name(int(st.OpenWaves) - 1)
			return reconcile.Wait(falcopsv1alpha1.ReasonPausing, wait,
				"wave %s is done; wave %s opens in %s", last.Name, waves.Name(int(st.OpenWaves)), wait.Round(time.Second))
		}
		st.OpenWaves++
		ctrl.LoggerFrom(ctx).Info("opened wave", "wave", waves.Name(int(st.OpenWaves)-1), "revision", revision)
	}
	st.CurrentWave = waves.Name(int(st.OpenWaves) - 1)
	for i := 0; i < int(st.OpenWaves); i++ {
		if st.Waves[i].CompletedAt == nil {
			w := st.Waves[i]
			return reconcile.Wait(falcopsv1alpha1.ReasonWaveInProgress, 0,
				"wave %s: %d of %d shoots up to date", w.Name, w.UpToDate, w.Shoots)
		}
	}
	return nil
}

// count tallies the shoots per wave: pending ones have a decided target
// that differs from what they run (blocked shoots are not pending: they
// wait for a profile or RuleSource change, not for the rollout).
func (r *Reconciler) count(ctx context.Context, in plan.Input, waves *plan.Waves, revision string) ([]counts, error) {
	shoots := shoot.NewList()
	if err := r.Client.List(ctx, shoots, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var rollouts falcopsv1alpha1.ShootRolloutList
	if err := r.Client.List(ctx, &rollouts, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	changedBy := map[types.NamespacedName]bool{}
	for _, sr := range rollouts.Items {
		if sr.Status.Revision == revision && sr.Status.LastTransitionTime != nil {
			changedBy[types.NamespacedName{Namespace: sr.Namespace, Name: sr.Name}] = true
		}
	}
	tally := make([]counts, waves.Len())
	for i := range shoots.Items {
		u := &shoots.Items[i]
		f, ok, err := shoot.FalcoOf(u)
		if !ok || err != nil {
			continue
		}
		w := waves.Of(u.GetNamespace(), u.GetName(), u.GetLabels())
		tally[w].shoots++
		in.Falco = f
		if p, err := plan.Compute(in); err == nil && p.Changed {
			tally[w].pending++
		}
		if failedByRollout(u, changedBy) {
			tally[w].failed++
		}
	}
	return tally, nil
}

func failedByRollout(u *unstructured.Unstructured, changedBy map[types.NamespacedName]bool) bool {
	return changedBy[types.NamespacedName{Namespace: u.GetNamespace(), Name: u.GetName()}] && shoot.LastOperationFailed(u)
}
