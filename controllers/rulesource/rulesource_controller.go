package rulesource

import (
	"context"
	"crypto/sha256"
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

	// DefaultRegistryTimeout bounds the registry work of one reconcile.
	DefaultRegistryTimeout = 2 * time.Minute
	// secretRefIndex indexes RuleSources by the name of their key Secret.
	secretRefIndex = ".spec.verify.secretRef.name"
)

// Reconciler reconciles RuleSource objects.
type Reconciler struct {
	// Client reads RuleSources (from the cache) and patches their status.
	Client client.Client
	// Secrets reads the key and credential Secrets (default: Client, whose
	// cache holds only the labelled Secrets of SecretNamespace).
	Secrets client.Reader
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
	// RegistryTimeout bounds all registry requests of one reconcile
	// (default DefaultRegistryTimeout); each request also has the header
	// and idle timeouts of oci.Options.
	RegistryTimeout time.Duration

	initOnce sync.Once
	initErr  error
	base     oci.Options
	// clients are the registry clients by kind: the shared ones reuse
	// connections and tokens across RuleSources; those with credentials
	// are kept per credentials content.
	clientsMu sync.Mutex
	clients   map[clientKey]*oci.Client

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
		if r.RegistryTimeout <= 0 {
			r.RegistryTimeout = DefaultRegistryTimeout
		}
		if r.Secrets == nil {
			r.Secrets = r.Client
		}
		base := r.Transport
		if base == nil {
			base = http.DefaultTransport.(*http.Transport).Clone()
		}
		// One transport and two clients for the whole process: connections
		// and registry tokens are reused across polls.
		rt := &instrumentedTransport{base: base, clock: r.Clock}
		r.base = oci.Options{
			Transport: rt,
			Clock:     r.Clock.Now,
			UserAgent: "falcops-controller",
			// Few quick retries: the controller's own backoff does the rest.
			Retry: oci.RetryPolicy{MaxAttempts: 3, MinWait: 250 * time.Millisecond, MaxWait: 5 * time.Second},
			// Anonymous unless a RuleSource names credentials: never the
			// controller's own Docker configuration.
			Credential: oci.Anonymous,
		}
		r.clients = map[clientKey]*oci.Client{}
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
	if r.Recorder == nil {
		r.Recorder = mgr.GetEventRecorder(EventSource)
	}
	if err := r.setDefaults(); err != nil {
		return fmt.Errorf("rulesource controller: %w", err)
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &falcopsv1alpha1.RuleSource{}, secretRefIndex,
		func(o client.Object) []string {
			rs, ok := o.(*falcopsv1alpha1.RuleSource)
			if !ok {
				return nil
			}
			var names []string
			if ref := rs.Spec.Verify.SecretRef; ref != nil {
				names = append(names, ref.Name)
			}
			if ref := rs.Spec.CredentialsSecretRef; ref != nil {
				names = append(names, ref.Name)
			}
			return names
		}); err != nil {
		return fmt.Errorf("rulesource controller: indexing key Secrets: %w", err)
	}
	inSecretNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.SecretNamespace
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("rulesource").
		For(&falcopsv1alpha1.RuleSource{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// The full Secret, not its metadata: the event and the read in
		// reconcileKey then come from the same informer, so a Secret that
		// appears is there when its event wakes the RuleSource.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.ruleSourcesForSecret),
			builder.WithPredicates(inSecretNamespace)).
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
	pctx, cancel := context.WithTimeout(ctx, r.RegistryTimeout)
	defer cancel()
	for _, phase := range []func(context.Context, *scope) error{
		r.checkSpec,
		r.reconcileKey,
		r.reconcileCredentials,
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

// clientKey says which registry client a RuleSource needs.
type clientKey struct {
	plainHTTP, insecureRemote bool
	credentials               [32]byte // SHA-256 of the docker config; zero: anonymous
}

// clientFor returns the client for the RuleSource's transport settings
// and credentials (a docker config.json, or nil), made once per kind.
func (r *Reconciler) clientFor(s *scope, dockerConfig []byte) (*oci.Client, error) {
	k := clientKey{plainHTTP: s.insecure, insecureRemote: s.insecure && s.insecureRemote}
	opts := r.base
	if dockerConfig != nil {
		cred, err := oci.DockerConfigCredential(dockerConfig)
		if err != nil {
			return nil, err
		}
		k.credentials, opts.Credential = sha256.Sum256(dockerConfig), cred
	}
	r.clientsMu.Lock()
	defer r.clientsMu.Unlock()
	if c := r.clients[k]; c != nil {
		return c, nil
	}
	opts.PlainHTTP, opts.AllowInsecureRemote = k.plainHTTP, k.insecureRemote
	c, err := oci.New(opts)
	if err != nil {
		return nil, err
	}
	if len(r.clients) > maxClients {
		clear(r.clients) // rotated credentials leave old entries behind
	}
	r.clients[k] = c
	return c, nil
}

// maxClients bounds the registry clients kept.
const maxClients = 64
