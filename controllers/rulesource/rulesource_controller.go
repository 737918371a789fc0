package rulesource

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/oci"
)

// Defaults of RuleSource fields and of the Reconciler.
const (
	// DefaultInterval is the poll interval when neither spec.interval nor
	// Reconciler.DefaultInterval is set.
	DefaultInterval = time.Minute
	// DefaultHistory is how many verified versions status keeps when
	// spec.history is unset.
	DefaultHistory = 10
	// DefaultKey is the Secret key holding the PEM public key.
	DefaultKey = "cosign.pub"
	// EventSource is the reporting controller of the events.
	EventSource = "falcops-rulesource"

	// registryTimeout bounds the registry requests of one reconcile.
	registryTimeout = 2 * time.Minute
	// secretRefIndex indexes RuleSources by the name of their key Secret.
	secretRefIndex = ".spec.verify.secretRef.name"
)

// Reconciler reconciles RuleSource objects.
type Reconciler struct {
	// Client reads RuleSources (from the cache) and patches their status.
	Client client.Client
	// APIReader reads the key Secrets, which are not cached (default: the
	// manager's API reader in SetupWithManager, else Client).
	APIReader client.Reader
	// SecretNamespace is the namespace of the key Secrets (the controller's
	// own namespace).
	SecretNamespace string
	// Clock is the time source (default: the real clock).
	Clock clock.PassiveClock
	// Recorder emits events.k8s.io events (default in SetupWithManager:
	// mgr.GetEventRecorder(EventSource); nil emits none).
	Recorder events.EventRecorder
	// Transport is the base HTTP transport to registries (default: a clone
	// of http.DefaultTransport). Requests through it are counted in
	// falcops_registry_requests_total.
	Transport http.RoundTripper
	// Jitter spreads the next poll after a success (default:
	// JitterUpTo(DefaultJitter)).
	Jitter func(time.Duration) time.Duration
	// DefaultInterval is the poll interval of RuleSources without
	// spec.interval (default DefaultInterval).
	DefaultInterval time.Duration

	initOnce sync.Once
	initErr  error
	plain    *oci.Client // spec.insecure
	secure   *oci.Client

	mu    sync.Mutex
	memos map[string]*memo
}

// memo is what the controller remembers about a RuleSource between
// reconciles, in memory only.
type memo struct {
	// failures counts consecutive polls the registry failed.
	failures int
	// built says status.versions was rebuilt from the repository's tags
	// for this generation and key.
	built      bool
	generation int64
	keySum     [32]byte
}

// setDefaults fills the defaults and builds the registry clients once.
func (r *Reconciler) setDefaults() error {
	r.initOnce.Do(func() {
		registerMetrics()
		if r.Clock == nil {
			r.Clock = clock.RealClock{}
		}
		if r.Jitter == nil {
			r.Jitter = JitterUpTo(DefaultJitter)
		}
		if r.DefaultInterval <= 0 {
			r.DefaultInterval = DefaultInterval
		}
		if r.APIReader == nil {
			r.APIReader = r.Client
		}
		base := r.Transport
		if base == nil {
			base = http.DefaultTransport.(*http.Transport).Clone()
		}
		// One transport and two clients for the whole process: connections
		// and registry tokens are reused across polls.
		rt := &instrumentedTransport{base: base, clock: r.Clock}
		opts := oci.Options{
			Transport: rt,
			Clock:     r.Clock.Now,
			UserAgent: "falcops-controller",
			// Few quick retries: the controller's own backoff does the rest.
			Retry: oci.RetryPolicy{MaxAttempts: 3, MinWait: 250 * time.Millisecond, MaxWait: 5 * time.Second},
		}
		if r.secure, r.initErr = oci.New(opts); r.initErr != nil {
			return
		}
		opts.PlainHTTP = true
		r.plain, r.initErr = oci.New(opts)
		r.memos = map[string]*memo{}
	})
	return r.initErr
}

// SetupWithManager registers the controller with mgr: RuleSources (spec
// changes only; status writes never trigger a reconcile) and the Secrets in
// SecretNamespace, mapped to the RuleSources whose key they hold. opts
// carry the concurrency and the rate limiter.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts controller.Options) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(EventSource)
	}
	if err := r.setDefaults(); err != nil {
		return fmt.Errorf("rulesource controller: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &falcopsv1alpha1.RuleSource{}, secretRefIndex,
		func(o client.Object) []string {
			rs, ok := o.(*falcopsv1alpha1.RuleSource)
			if !ok || rs.Spec.Verify.SecretRef.Name == "" {
				return nil
			}
			return []string{rs.Spec.Verify.SecretRef.Name}
		}); err != nil {
		return fmt.Errorf("rulesource controller: indexing key Secrets: %w", err)
	}
	inSecretNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.SecretNamespace
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("rulesource").
		For(&falcopsv1alpha1.RuleSource{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.ruleSourcesForSecret),
			builder.OnlyMetadata, builder.WithPredicates(inSecretNamespace)).
		WithOptions(opts).
		Complete(r)
}

// ruleSourcesForSecret maps a key Secret to the RuleSources that name it.
func (r *Reconciler) ruleSourcesForSecret(ctx context.Context, o client.Object) []ctrl.Request {
	var list falcopsv1alpha1.RuleSourceList
	if err := r.Client.List(ctx, &list, client.MatchingFields{secretRefIndex: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "listing the RuleSources of a key Secret", "Secret", client.ObjectKeyFromObject(o))
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, rs := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Name: rs.Name}})
	}
	return reqs
}

// Reconcile polls one RuleSource: key, followed tag, new digests. Status is
// computed once, from what the phases observed, and written with a single
// patch when it changed.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	if err := r.setDefaults(); err != nil {
		return ctrl.Result{}, err
	}
	obj := &falcopsv1alpha1.RuleSource{}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !obj.DeletionTimestamp.IsZero() {
		r.forget(req.Name)
		return ctrl.Result{}, nil
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("ruleset", obj.Spec.Ruleset))
	s := r.newScope(obj)

	defer func() {
		result, retErr = r.finish(ctx, s, retErr)
	}()

	// The registry work is bounded; the status patch in finish uses ctx.
	pctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	for _, phase := range []func(context.Context, *scope) error{
		r.checkSpec,
		r.reconcileKey,
		r.reconcileSource,
		r.reconcileHistory,
		r.reconcileVerify,
	} {
		if err := phase(pctx, s); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// memo returns the in-memory state of a RuleSource.
func (r *Reconciler) memo(name string) *memo {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.memos[name]
	if !ok {
		m = &memo{}
		r.memos[name] = m
	}
	return m
}

func (r *Reconciler) forget(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.memos, name)
}

// client returns the registry client for the RuleSource's scheme.
func (r *Reconciler) client(s *scope) *oci.Client {
	if s.insecure {
		return r.plain
	}
	return r.secure
}
