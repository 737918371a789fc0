package rolloutpolicy

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
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
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

const (
	// EventSource is the reporting controller of the events (named before
	// the package was named after its kind; events keep it).
	EventSource = "falcops-rollout"
	// name is the controller's name in logs and metrics, kept for the same
	// reason.
	name = "rollout"
)

// Debounce is how long shoot and ShootRollout changes are collected before
// the policies are counted again: a rollout of thousands of shoots causes
// thousands of events, and counting lists every shoot.
const Debounce = time.Second

// Reconciler reconciles RolloutPolicies.
type Reconciler struct {
	// Client reads policies, shoots, ShootRollouts, profiles and
	// RuleSources (from the cache) and patches policy status (default: the
	// manager's client).
	Client client.Client
	// Clock is the time source (default: the real clock).
	Clock clock.PassiveClock
	// Recorder emits events.k8s.io events (default:
	// mgr.GetEventRecorder(EventSource)).
	Recorder events.EventRecorder
	// AllowForcedDowngrade must equal the maintenance controller's, so
	// both agree on which shoots are blocked.
	AllowForcedDowngrade bool
	// Inputs remembers the merged profiles and RuleSources; share one with
	// the maintenance Reconciler (default: its own).
	Inputs *rollout.InputsCache
}

// SetupWithManager registers the controller. Every shoot, ShootRollout,
// profile and RuleSource change re-counts every policy, at most once per
// Debounce (the delaying queue folds a burst into one reconcile). opts
// carry the concurrency and the rate limiter.
func (r *Reconciler) SetupWithManager(_ context.Context, mgr ctrl.Manager, opts controller.Options) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(EventSource)
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Inputs == nil {
		r.Inputs = &rollout.InputsCache{}
	}
	all := r.debounced()
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(&falcopsv1alpha1.RolloutPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(shoot.New(), all).
		Watches(&falcopsv1alpha1.ShootRollout{}, all).
		Watches(&profilev1alpha1.FalcoProfile{}, all, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&falcopsv1alpha1.RuleSource{}, all).
		WithOptions(opts).
		Complete(r)
}

// debounced enqueues every policy Debounce after an event.
func (r *Reconciler) debounced() handler.Funcs {
	add := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[ctrlreconcile.Request]) {
		for _, req := range r.allPolicies(ctx) {
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

func (r *Reconciler) allPolicies(ctx context.Context) []ctrlreconcile.Request {
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

// scope is what one reconcile observed and decided.
type scope struct {
	policy *falcopsv1alpha1.RolloutPolicy
	before *falcopsv1alpha1.RolloutPolicy
	now    time.Time

	waves  *rollout.Waves
	inputs *rollout.Inputs
	tally  []counts
	failed int
	// halt is why the rollout is halted, nil when it is not; haltChecked
	// says whether the halt rule was evaluated (the Halted condition stays
	// as it was otherwise).
	halt        *halt
	haltChecked bool
}

// counts is one wave's tally.
type counts struct{ shoots, pending, failed int }

// halt is the reason and message of the Halted condition.
type halt struct{ reason, message string }

// Reconcile counts the waves and moves the rollout on. Status is computed
// once, from what the steps observed, and written with one patch when it
// changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx).WithValues("RolloutPolicy", klog.KRef("", req.Name))
	ctx = ctrl.LoggerInto(ctx, log)
	p := &falcopsv1alpha1.RolloutPolicy{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s := &scope{policy: p, before: p.DeepCopy(), now: r.Clock.Now()}

	defer func() {
		result, retErr = r.finish(ctx, s, retErr)
	}()
	for _, step := range []func(context.Context, *scope) error{
		r.reconcileWaves,
		r.reconcileInputs,
		r.reconcileCount,
		r.reconcileProgress,
		r.reconcileHalt,
		r.reconcileOpen,
	} {
		if err := step(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}
