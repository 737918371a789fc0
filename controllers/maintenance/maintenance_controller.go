package maintenance

import (
	"context"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// EventSource is the reporting controller of the events.
const EventSource = "falcops-maintenance"

// statusWorkers write ShootRollouts; few, so that shoot patches come first.
const statusWorkers = 2

// Reconciler reconciles one Shoot.
type Reconciler struct {
	// Client reads shoots, profiles, RuleSources and the RolloutPolicy
	// (from the cache), patches shoots and writes ShootRollouts (default:
	// the manager's client).
	Client client.Client
	// Clock is the time source (default: the real clock).
	Clock clock.PassiveClock
	// Recorder emits events.k8s.io events (default:
	// mgr.GetEventRecorder(EventSource)).
	Recorder events.EventRecorder
	// RolloutPolicy names the RolloutPolicy that orders changes; without
	// that object every shoot is in one wave.
	RolloutPolicy string
	// AllowForcedDowngrade lets an expired or removed version move down
	// when nothing higher is left. Off: such shoots are blocked and say so.
	AllowForcedDowngrade bool
	// Inputs remembers the merged profiles and RuleSources; share one with
	// the rolloutpolicy Reconciler (default: its own).
	Inputs *rollout.InputsCache

	metrics *metrics
	status  *statusWriter
}

// SetupWithManager registers the controller: shoots with the Falco
// extension, and the profiles, RuleSources and the rollout policy mapped to
// exactly the shoots they affect. opts carry the concurrency and the rate
// limiter.
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
	r.metrics = newMetrics()
	r.status = newStatusWriter(r.Client, r.Clock, statusWorkers)
	if err := mgr.Add(r.status); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("maintenance").
		For(shoot.New(), builder.WithPredicates(hasFalco(), predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		// The profile's status (written by the falcoprofile controller)
		// changes no decision: only its spec does.
		Watches(&profilev1alpha1.FalcoProfile{}, handler.EnqueueRequestsFromMapFunc(r.affectedShoots),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&falcopsv1alpha1.RuleSource{}, handler.EnqueueRequestsFromMapFunc(r.affectedShoots),
			builder.WithPredicates(statusOrSpecChanged())).
		Watches(&falcopsv1alpha1.RolloutPolicy{}, handler.EnqueueRequestsFromMapFunc(r.waitingShoots)).
		WithOptions(opts).
		Complete(r)
}

// hasFalco passes shoots with the Falco extension. An update that turns the
// extension off passes too, so the shoot's ShootRollout goes away.
func hasFalco() predicate.Funcs {
	falco := func(o client.Object) bool {
		u, ok := o.(*unstructured.Unstructured)
		return ok && shoot.HasFalco(u)
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return falco(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return falco(e.ObjectOld) || falco(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return falco(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return falco(e.Object) },
	}
}

// statusOrSpecChanged passes RuleSource updates that change the verified
// versions or the spec, not condition-only churn.
func statusOrSpecChanged() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*falcopsv1alpha1.RuleSource)
		n, ok2 := e.ObjectNew.(*falcopsv1alpha1.RuleSource)
		if !ok1 || !ok2 {
			return true
		}
		return o.Generation != n.Generation || !slices.EqualFunc(o.Status.Versions, n.Status.Versions, sameDecisionInput)
	}}
}

// sameDecisionInput compares what a decision reads of a verified version.
// VerifiedAt is left out on purpose: verifying a digest again changes no
// decision.
func sameDecisionInput(a, b falcopsv1alpha1.RulesetVersion) bool {
	return a.Digest == b.Digest && a.Version == b.Version && a.EngineVersion == b.EngineVersion
}

// scope is what one reconcile observed and decided.
type scope struct {
	shoot *unstructured.Unstructured
	view  *shoot.View
	// falco is what the shoot runs (after a patch: what it runs now).
	falco   *shoot.FalcoConfig
	rollout *falcopsv1alpha1.ShootRollout
	before  *falcopsv1alpha1.ShootRollout
	exists  bool // the ShootRollout was created before
	now     time.Time

	inputs   *rollout.Inputs
	position rollout.Position
	decision rollout.Decision
	decided  bool
	applied  bool
	// reason and message of a reconcile without error.
	reason, message string
}

// Reconcile decides and, when allowed, applies one shoot's Falco version
// and pins. The ShootRollout is computed once, from what the steps
// observed, and handed to the status writer when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	log := ctrl.LoggerFrom(ctx).WithValues("Shoot", klog.KRef(req.Namespace, req.Name))
	ctx = ctrl.LoggerInto(ctx, log)

	u := shoot.New()
	if err := r.Client.Get(ctx, req.NamespacedName, u); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forget(req.NamespacedName)
			r.status.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if u.GetDeletionTimestamp() != nil {
		r.metrics.forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	v := shoot.Observe(u)
	if !v.Enabled {
		r.metrics.forget(req.NamespacedName)
		r.status.forget(req.NamespacedName)
		sr := &falcopsv1alpha1.ShootRollout{}
		sr.Name, sr.Namespace = req.Name, req.Namespace
		return ctrl.Result{}, client.IgnoreNotFound(r.Client.Delete(ctx, sr))
	}
	sr, exists, err := r.status.current(ctx, req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	s := &scope{shoot: u, view: v, falco: v.Falco, rollout: sr, before: sr.DeepCopy(), exists: exists, now: r.Clock.Now()}
	if s.falco == nil {
		// An invalid providerConfig: nothing is known of what the shoot
		// runs; checkConfig stalls.
		s.falco = &shoot.FalcoConfig{}
	}

	defer func() {
		result, retErr = r.finish(ctx, s, retErr)
	}()
	for _, step := range []func(context.Context, *scope) error{
		r.checkConfig,
		r.reconcileInputs,
		r.reconcileWave,
		r.reconcileTarget,
		r.reconcileAdmission,
		r.reconcilePatch,
	} {
		if err := step(ctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}
