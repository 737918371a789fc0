package maintenance

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/controllers/rolloutpolicy"
	"github.com/falcops/falcops/controllers/rulesource"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// TestMain shares one envtest API server between the scenarios (started
// by the first that needs it); the unit tests of this package run without.
func TestMain(m *testing.M) { testenv.Main(m) }

// Falco engine versions used by the scenarios (set in the profile).
var engines = map[string]string{
	"0.40.0": "0.48.0", "0.41.3": "0.50.0", "0.42.1": "0.52.0", "0.43.0": "0.55.0", "0.44.1": "0.57.0", "0.45.0": "0.58.0",
}

// harness is one scenario: the shared API server, a fresh registry and
// namespace, and the three controllers in a manager, wired as
// falcops-controller wires them.
type harness struct {
	t   *testing.T
	ctx context.Context
	c   client.Client
	reg *ocitest.Registry
	pub *testenv.Publisher
	ns  string
	// wrap, if set, wraps the maintenance Reconciler's client.
	wrap func(client.Client) client.Client
}

var nsCounter atomic.Int32

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := testenv.Shared(t)
	h := &harness{t: t, ctx: context.Background(), c: env.Client}
	h.reg = ocitest.New(t)
	h.pub = testenv.NewPublisher(t, h.reg.Host)
	h.ns = fmt.Sprintf("garden-t%d", nsCounter.Add(1))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.ns}}))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cosign", Namespace: h.ns, Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}},
		Data:       map[string][]byte{"cosign.pub": h.pub.PublicKey},
	}))
	t.Cleanup(h.cleanup)
	return h
}

// start runs the manager (call after creating the initial objects, or
// before: both must work).
func (h *harness) start() {
	h.t.Helper()
	testenv.Shared(h.t).StartManager(h.t, h.managerOptions(), h.setup)
}

// managerOptions are falcops-controller's cache settings (its
// TestCacheScope checks them): shoots with the Falco label only, slimmed,
// read from the cache; Secrets of the controller's namespace only.
func (h *harness) managerOptions() ctrl.Options {
	sel := labels.SelectorFromSet(labels.Set{servicev1alpha1.ShootLabel: "true"})
	return ctrl.Options{
		Cache:  scheme.Cache(h.ns, sel),
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	}
}

// setup registers the controllers with falcops-controller's defaults, a
// 1s poll interval and no jitter.
func (h *harness) setup(mgr ctrl.Manager) error {
	ctx := context.Background()
	opts := func(concurrency int) controller.Options {
		return controller.Options{
			MaxConcurrentReconciles: concurrency,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[ctrlreconcile.Request](750*time.Millisecond, 15*time.Minute),
		}
	}
	if err := (&rulesource.Reconciler{
		SecretNamespace: h.ns, DefaultInterval: time.Second, Jitter: rulesource.JitterUpTo(0),
	}).SetupWithManager(ctx, mgr, opts(4)); err != nil {
		return err
	}
	inputs := &rollout.InputsCache{}
	c := mgr.GetClient()
	if h.wrap != nil {
		c = h.wrap(c)
	}
	if err := (&Reconciler{Client: c, RolloutPolicy: "default", Inputs: inputs}).SetupWithManager(ctx, mgr, opts(4)); err != nil {
		return err
	}
	return (&rolloutpolicy.Reconciler{Inputs: inputs}).SetupWithManager(ctx, mgr, opts(1))
}

// cleanup removes the scenario's shoots (envtest runs no namespace
// controller, so deleting the namespace would leave them, and later
// scenarios would count them) and its cluster-scoped objects.
func (h *harness) cleanup() {
	ctx := context.Background()
	_ = h.c.DeleteAllOf(ctx, shoot.New(), client.InNamespace(h.ns))
	for _, o := range []client.Object{&profilev1alpha1.FalcoProfile{}, &falcopsv1alpha1.RuleSource{}, &falcopsv1alpha1.RolloutPolicy{}} {
		_ = h.c.DeleteAllOf(ctx, o)
	}
}

// profile creates or replaces the FalcoProfile "falco" with versions given
// as "0.42.1=supported", "0.41.3=deprecated@-1h" (expiry relative to now),
// each with engine version engines[v].
func (h *harness) profile(versions ...string) {
	h.t.Helper()
	p := &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco"}}
	for _, v := range versions {
		ver, class, _ := strings.Cut(v, "=")
		class, exp, hasExp := strings.Cut(class, "@")
		fv := profilev1alpha1.FalcoVersion{Version: ver, Classification: class, RulesVersion: ver, EngineVersion: engines[ver]}
		if hasExp {
			d, err := time.ParseDuration(exp)
			require.NoError(h.t, err)
			s := time.Now().Add(d).UTC().Format(time.RFC3339)
			fv.ExpirationDate = &s
		}
		p.Spec.Versions.Falco = append(p.Spec.Versions.Falco, fv)
		p.Spec.Images.Falco = append(p.Spec.Images.Falco, profilev1alpha1.ImageSpec{Version: ver, Repository: "falcosecurity/falco", Tag: ver})
	}
	old := &profilev1alpha1.FalcoProfile{}
	err := h.c.Get(h.ctx, types.NamespacedName{Name: "falco"}, old)
	if apierrors.IsNotFound(err) {
		require.NoError(h.t, h.c.Create(h.ctx, p))
		return
	}
	require.NoError(h.t, err)
	p.ResourceVersion = old.ResourceVersion
	require.NoError(h.t, h.c.Update(h.ctx, p))
}

// ruleSource creates a RuleSource for ruleset name following tag follow.
func (h *harness) ruleSource(name, follow string) {
	h.t.Helper()
	rs := &falcopsv1alpha1.RuleSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: falcopsv1alpha1.RuleSourceSpec{
			Ruleset: name, Repository: h.pub.Repo(name), Follow: follow, Insecure: true,
			Interval: &metav1.Duration{Duration: time.Second},
			Verify:   falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: "cosign"}},
		},
	}
	require.NoError(h.t, h.c.Create(h.ctx, rs))
}

// shootSpec describes a test shoot.
type shootSpec struct {
	name       string
	version    string // falcoVersion; "" leaves it unset
	autoUpdate *bool
	window     [2]string // begin, end; empty = no window (always open)
	standard   []string  // rules.standard; nil leaves rules unset
	labels     map[string]string
	maintain   bool
	// providerConfig, if set, is merged into the providerConfig.
	providerConfig map[string]any
}

// openWindow and closedWindow are maintenance windows around and away from
// the current time of day (UTC).
func openWindow() [2]string {
	now := time.Now().UTC()
	return [2]string{now.Add(-time.Hour).Format("150405") + "+0000", now.Add(time.Hour).Format("150405") + "+0000"}
}

func closedWindow() [2]string {
	now := time.Now().UTC()
	return [2]string{now.Add(3*time.Hour).Format("150405") + "+0000", now.Add(4*time.Hour).Format("150405") + "+0000"}
}

func (h *harness) shoot(s shootSpec) *unstructured.Unstructured {
	h.t.Helper()
	pc := map[string]any{"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind}
	if s.version != "" {
		pc["falcoVersion"] = s.version
	}
	if s.autoUpdate != nil {
		pc["autoUpdate"] = *s.autoUpdate
	}
	if s.standard != nil {
		std := make([]any, len(s.standard))
		for i, n := range s.standard {
			std[i] = n
		}
		pc["rules"] = map[string]any{"standard": std}
	}
	maps.Copy(pc, s.providerConfig)
	spec := map[string]any{
		"kubernetes": map[string]any{"version": "1.33.0"},
		"extensions": []any{
			map[string]any{"type": "shoot-dns-service"},
			map[string]any{"type": servicev1alpha1.Type, "providerConfig": pc},
		},
	}
	if s.window[0] != "" {
		spec["maintenance"] = map[string]any{"timeWindow": map[string]any{"begin": s.window[0], "end": s.window[1]}}
	}
	u := shoot.New()
	u.SetName(s.name)
	u.SetNamespace(h.ns)
	lbls := map[string]string{servicev1alpha1.ShootLabel: "true"}
	maps.Copy(lbls, s.labels)
	u.SetLabels(lbls)
	if s.maintain {
		u.SetAnnotations(map[string]string{shoot.OperationAnnotation: shoot.OperationMaintain})
	}
	u.Object["spec"] = spec
	require.NoError(h.t, h.c.Create(h.ctx, u))
	return u
}

// falco reads a shoot's Falco config straight from the API server.
func (h *harness) falco(name string) *shoot.FalcoConfig {
	h.t.Helper()
	f, ok, err := shoot.FalcoOf(h.getShoot(name))
	require.NoError(h.t, err)
	require.True(h.t, ok)
	return f
}

func (h *harness) getShoot(name string) *unstructured.Unstructured {
	h.t.Helper()
	u := shoot.New()
	require.NoError(h.t, h.c.Get(h.ctx, types.NamespacedName{Namespace: h.ns, Name: name}, u))
	return u
}

func (h *harness) rollout(name string) *falcopsv1alpha1.ShootRollout {
	sr := &falcopsv1alpha1.ShootRollout{}
	if err := h.c.Get(h.ctx, types.NamespacedName{Namespace: h.ns, Name: name}, sr); err != nil {
		return nil
	}
	return sr
}

func clientKey(name string) types.NamespacedName { return types.NamespacedName{Name: name} }

// eventually polls cond for up to 30 s.
func (h *harness) eventually(cond func(c *assert.CollectT), msg string) {
	h.t.Helper()
	require.EventuallyWithT(h.t, cond, 30*time.Second, 100*time.Millisecond, msg)
}

// waitVersion waits until shoot name runs Falco version.
func (h *harness) waitVersion(name, version string) {
	h.t.Helper()
	h.eventually(func(c *assert.CollectT) {
		assert.Equal(c, version, h.falco(name).Version)
	}, name+" should run Falco "+version)
}

// waitReason waits until the shoot's ShootRollout has reason.
func (h *harness) waitReason(name, reason string) *falcopsv1alpha1.ShootRollout {
	h.t.Helper()
	var sr *falcopsv1alpha1.ShootRollout
	h.eventually(func(c *assert.CollectT) {
		sr = h.rollout(name)
		if assert.NotNil(c, sr, "ShootRollout %s", name) {
			assert.Equal(c, reason, sr.Status.Reason, "ShootRollout %s: %s", name, sr.Status.Message)
		}
	}, name+" should say "+reason)
	return sr
}

// events returns the events.k8s.io events regarding shoot name.
func (h *harness) events(name string) []eventsv1.Event {
	h.t.Helper()
	var list eventsv1.EventList
	require.NoError(h.t, h.c.List(h.ctx, &list, client.InNamespace(h.ns)))
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "Shoot" {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an event on shoot name with reason whose note
// contains text.
func (h *harness) waitEvent(name, reason, text string) {
	h.t.Helper()
	h.eventually(func(c *assert.CollectT) {
		var notes []string
		for _, e := range h.events(name) {
			if e.Reason == reason && strings.Contains(e.Note, text) {
				return
			}
			notes = append(notes, e.Reason+": "+e.Note)
		}
		c.Errorf("no %s event containing %q on %s; have %q", reason, text, name, notes)
	}, "event on "+name)
}

// steady asserts that the named shoots keep their resourceVersion for d.
func (h *harness) steady(names []string, d time.Duration) {
	h.t.Helper()
	rv := map[string]string{}
	for _, n := range names {
		rv[n] = h.getShoot(n).GetResourceVersion()
	}
	time.Sleep(d)
	for _, n := range names {
		assert.Equal(h.t, rv[n], h.getShoot(n).GetResourceVersion(), "shoot %s changed", n)
	}
}

// metricValue is the value of the sample of a controller metric with the
// given labels (gauge or counter), 0 if absent.
func metricValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// racingClient stands for a user who edits a shoot between the
// controller's read and its patch: before the first patch of shoot name it
// runs race.
type racingClient struct {
	client.Client
	name  string
	race  func(ctx context.Context)
	raced atomic.Bool
}

func (c *racingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if u, ok := obj.(*unstructured.Unstructured); ok && u.GetName() == c.name && c.raced.CompareAndSwap(false, true) {
		c.race(ctx)
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}
