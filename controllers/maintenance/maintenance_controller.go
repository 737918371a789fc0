package maintenance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
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
	"github.com/falcops/falcops/controllers/maintenance/window"
	"github.com/falcops/falcops/internal/plan"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/internal/shoot"
)

// Reconciler reconciles one Shoot.
type Reconciler struct {
	Client   client.Client
	Clock    clock.PassiveClock
	Recorder events.EventRecorder
	// RolloutPolicy names the RolloutPolicy that orders changes; without
	// that object every shoot is in one wave.
	RolloutPolicy string
	// AllowForcedDowngrade lets an expired or removed version move down
	// when nothing higher is left. Off: such shoots are blocked and say so.
	AllowForcedDowngrade bool
	// BeforePatch, if set, runs between reading a shoot and patching it
	// (tests race a concurrent edit here).
	BeforePatch func(ctx context.Context, shoot *unstructured.Unstructured)

	metrics *metrics
	status  *statusWriter
}

// statusWorkers write ShootRollouts; few, so that shoot patches come first.
const statusWorkers = 2

// SetupWithManager registers the controller: shoots with the Falco
// extension, and the profiles, RuleSources and the rollout policy mapped to
// exactly the shoots they affect.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	r.metrics = newMetrics()
	r.status = newStatusWriter(r.Client, r.Clock, statusWorkers)
	if err := mgr.Add(r.status); err != nil {
		return err
	}
	falco := func(o client.Object) bool {
		u, ok := o.(*unstructured.Unstructured)
		return ok && shoot.HasFalco(u)
	}
	// An update that turns the extension off passes too, so the shoot's
	// ShootRollout goes away.
	hasFalco := predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return falco(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return falco(e.ObjectOld) || falco(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return falco(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return falco(e.Object) },
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("maintenance").
		For(shoot.New(), builder.WithPredicates(hasFalco, predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Watches(&profilev1alpha1.FalcoProfile{}, handler.EnqueueRequestsFromMapFunc(r.affectedShoots)).
		Watches(&falcopsv1alpha1.RuleSource{}, handler.EnqueueRequestsFromMapFunc(r.affectedShoots),
			builder.WithPredicates(statusOrSpecChanged())).
		Watches(&falcopsv1alpha1.RolloutPolicy{}, handler.EnqueueRequestsFromMapFunc(r.waitingShoots)).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
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
		return o.Generation != n.Generation || !versionsEqual(o.Status.Versions, n.Status.Versions)
	}}
}

func versionsEqual(a, b []falcopsv1alpha1.RulesetVersion) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Digest != b[i].Digest || a[i].Version != b[i].Version || a[i].EngineVersion != b[i].EngineVersion {
			return false
		}
	}
	return true
}

// Reconcile decides and, when allowed, applies one shoot's Falco version
// and pins, then writes its ShootRollout.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
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
	f, enabled, ferr := shoot.FalcoOf(u)
	if !enabled {
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
	s := &scope{shoot: u, falco: f, rollout: sr, before: sr.DeepCopy(), now: r.Clock.Now()}

	if ferr != nil {
		err = reconcile.Stall(falcopsv1alpha1.ReasonInvalidProviderConfig, "%v", ferr)
	} else {
		err = r.reconcile(ctx, s)
	}
	r.writeStatus(s, exists, err)
	r.metrics.observe(req.NamespacedName, s.falco)
	return reconcile.Result(err, ctrl.Result{})
}

// scope is what one reconcile observed and decided.
type scope struct {
	shoot   *unstructured.Unstructured
	falco   *shoot.Falco
	rollout *falcopsv1alpha1.ShootRollout
	before  *falcopsv1alpha1.ShootRollout
	now     time.Time

	plan     plan.Plan
	planned  bool
	wave     string
	revision string
	applied  bool
	reason   string
	message  string
}

func (r *Reconciler) reconcile(ctx context.Context, s *scope) error {
	in, revision, err := r.inputs(ctx)
	if err != nil {
		return err
	}
	s.revision = revision
	in.Falco = s.falco
	in.Now = s.now
	in.AllowDowngrade = r.AllowForcedDowngrade

	policy, err := r.policy(ctx)
	if err != nil {
		return err
	}
	waves, err := plan.NewWaves(policy)
	if err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidSpec, "RolloutPolicy %s: %v", r.RolloutPolicy, err)
	}
	wave := waves.Of(s.shoot.GetNamespace(), s.shoot.GetName(), s.shoot.GetLabels())
	s.wave = waves.Name(wave)

	p, err := plan.Compute(in)
	var blocked *plan.Blocked
	if errors.As(err, &blocked) {
		r.eventOnTransition(s, "Warning", blocked.Reason, blocked.Message)
		return reconcile.Stall(blocked.Reason, "%s", blocked.Message)
	}
	if err != nil {
		return err
	}
	s.plan, s.planned = p, true
	s.reason, s.message = p.Reason, p.Message
	if !p.Changed {
		s.reason, s.message = falcopsv1alpha1.ReasonUpToDate, p.Message
		if keepLastChange(s.before, p) {
			// Say why the shoot last moved for as long as it runs that
			// target, and do not rewrite the ShootRollout for nothing.
			s.reason, s.message = s.before.Status.Reason, s.before.Status.Message
		}
		return nil
	}

	if err := r.gate(s, p, policy, wave); err != nil {
		return err
	}
	return r.apply(ctx, s)
}

// gate says whether a change may be applied now: forced moves go at once;
// a halted rollout stops everything else; the maintain operation skips the
// wave and the window; everything else waits for its wave and its window.
func (r *Reconciler) gate(s *scope, p plan.Plan, policy *falcopsv1alpha1.RolloutPolicy, wave int) error {
	if p.Forced {
		return nil
	}
	if policy != nil && (policy.Spec.Paused || isTrue(policy.Status.Conditions, falcopsv1alpha1.HaltedCondition)) {
		return reconcile.Wait(falcopsv1alpha1.ReasonRolloutHalted, 0, "RolloutPolicy %s is halted: %s", policy.Name, haltMessage(policy))
	}
	if shoot.MaintainRequested(s.shoot) {
		s.reason = falcopsv1alpha1.ReasonMaintainOperation
		s.message = "the gardener.cloud/operation=maintain annotation asks for maintenance now; " + p.Message
		return nil
	}
	if policy != nil && (policy.Status.Revision != s.revision || int(policy.Status.OpenWaves) <= wave) {
		return reconcile.Wait(falcopsv1alpha1.ReasonWaitingForWave, 0,
			"wave %s opens after the waves before it are done (RolloutPolicy %s: %d of its waves open for revision %s)",
			s.wave, policy.Name, openFor(policy, s.revision), s.revision)
	}
	begin, end := shoot.TimeWindow(s.shoot)
	w, err := window.Parse(begin, end)
	if err != nil {
		// Gardener treats an unparsable window as always open; so do we,
		// and say so.
		s.message = fmt.Sprintf("%s (maintenance window ignored: %v)", p.Message, err)
		return nil
	}
	if !w.Contains(s.now) {
		next := w.Next(s.now)
		return reconcile.Wait(falcopsv1alpha1.ReasonWaitingForMaintenanceWindow, next+time.Second,
			"%s; waiting for the maintenance window %s (opens in %s)", plan.Describe(s.falco, p), w, next.Round(time.Second))
	}
	return nil
}

func openFor(p *falcopsv1alpha1.RolloutPolicy, revision string) int32 {
	if p.Status.Revision != revision {
		return 0
	}
	return p.Status.OpenWaves
}

func haltMessage(p *falcopsv1alpha1.RolloutPolicy) string {
	if p.Spec.Paused {
		return "spec.paused is true"
	}
	for _, c := range p.Status.Conditions {
		if c.Type == falcopsv1alpha1.HaltedCondition {
			return c.Message
		}
	}
	return "halted"
}

// apply patches the shoot with an optimistic lock: a concurrent edit makes
// the patch fail with a conflict instead of being overwritten, and the
// shoot is reconciled again from its new state.
func (r *Reconciler) apply(ctx context.Context, s *scope) error {
	orig := s.shoot.DeepCopy()
	if err := shoot.SetFalco(s.shoot, s.plan.Version, s.plan.Pins); err != nil {
		return reconcile.Stall(falcopsv1alpha1.ReasonInvalidProviderConfig, "%v", err)
	}
	if r.BeforePatch != nil {
		r.BeforePatch(ctx, orig)
	}
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := r.Client.Patch(ctx, s.shoot, patch); err != nil {
		if apierrors.IsConflict(err) {
			return reconcile.Retry(falcopsv1alpha1.ReasonPatchFailed, fmt.Errorf("shoot changed while it was being patched, retrying: %w", err))
		}
		return reconcile.Retry(falcopsv1alpha1.ReasonPatchFailed, fmt.Errorf("patching the shoot: %w", err))
	}
	r.status.patched()
	desc := plan.Describe(s.falco, s.plan)
	s.applied = true
	s.falco.Version, s.falco.Pins = s.plan.Version, s.plan.Pins
	s.message = fmt.Sprintf("%s: %s", desc, s.message)
	r.Recorder.Eventf(s.shoot, nil, "Normal", s.reason, "Update", "%s", s.message)
	ctrl.LoggerFrom(ctx).Info("updated Falco", "falcoVersion", s.plan.Version, "change", desc, "reason", s.reason)
	r.metrics.applied(s.reason)
	return nil
}

// appliedReasons are the reasons of a change the controller made.
var appliedReasons = []string{
	falcopsv1alpha1.ReasonAutoUpdate, falcopsv1alpha1.ReasonRulesetUpdate, falcopsv1alpha1.ReasonMaintainOperation,
	falcopsv1alpha1.ReasonForcedExpired, falcopsv1alpha1.ReasonForcedRemoved,
}

// keepLastChange reports whether the ShootRollout recorded a change to
// exactly the target the shoot now runs.
func keepLastChange(before *falcopsv1alpha1.ShootRollout, p plan.Plan) bool {
	st := before.Status
	if !slices.Contains(appliedReasons, st.Reason) || st.TargetFalcoVersion != p.Version || len(st.Rulesets) != len(p.Pins) {
		return false
	}
	for i, pin := range p.Pins {
		if st.Rulesets[i].Name != pin.Name || st.Rulesets[i].TargetDigest != digestOf(pin.Ref) {
			return false
		}
	}
	return true
}

// eventOnTransition records a warning only when the shoot's state changes
// to reason, never on every reconcile.
func (r *Reconciler) eventOnTransition(s *scope, typ, reason, message string) {
	if s.before.Status.Reason == reason && s.before.Status.Message == message {
		return
	}
	r.Recorder.Eventf(s.shoot, nil, typ, reason, "Decide", "%s", message)
}

// inputs reads the profiles and RuleSources from the cache.
func (r *Reconciler) inputs(ctx context.Context) (plan.Input, string, error) {
	in, revision, err := plan.Load(ctx, r.Client)
	var blocked *plan.Blocked
	if errors.As(err, &blocked) {
		return in, revision, reconcile.Stall(blocked.Reason, "%s", blocked.Message)
	}
	return in, revision, err
}

func (r *Reconciler) policy(ctx context.Context) (*falcopsv1alpha1.RolloutPolicy, error) {
	if r.RolloutPolicy == "" {
		return nil, nil
	}
	p := &falcopsv1alpha1.RolloutPolicy{}
	err := r.Client.Get(ctx, types.NamespacedName{Name: r.RolloutPolicy}, p)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return p, err
}
