package main

// The scenarios of the maintenance controller live beside it
// (controllers/maintenance/suite_test.go). This is the small harness the
// tests of main's own wiring need (flags, cache scope, RBAC, the
// benchmark): main's options and setup, which the controller packages
// cannot import. Sharing the fixtures would take an exported test-support
// package that the layout does not have, so the few lines are repeated.

import (
	"context"
	"fmt"
	"os"
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/shoot"
)

// runMainEnv makes the test binary run the controller's main instead of
// the tests, so a test can start it as a process of its own.
const runMainEnv = "FALCOPS_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	testenv.Main(m)
}

// Falco engine versions used by the tests (set in the profile).
var engines = map[string]string{"0.42.1": "0.52.0", "0.43.0": "0.55.0", "0.44.1": "0.57.0"}

// harness is one test: the shared API server, a fresh registry and
// namespace, and falcops-controller's manager as main builds it.
type harness struct {
	t   *testing.T
	ctx context.Context
	c   client.Client
	pub *testenv.Publisher
	ns  string
	o   options
	mgr ctrl.Manager
}

var nsCounter atomic.Int32

// defaultOptions are the flag defaults, with a 1s poll interval and no
// jitter for quick tests.
func defaultOptions(t testing.TB) options {
	t.Helper()
	var o options
	fs := newFlagSet()
	o.BindFlags(fs)
	require.NoError(t, fs.Parse(nil))
	o.poll.interval, o.poll.jitter = time.Second, 0
	return o
}

func newHarness(t *testing.T, tweak ...func(*options)) *harness {
	t.Helper()
	env := testenv.Shared(t)
	h := &harness{t: t, ctx: context.Background(), c: env.Client}
	h.pub = testenv.NewPublisher(t, ocitest.New(t).Host)
	h.ns = fmt.Sprintf("garden-t%d", nsCounter.Add(1))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.ns}}))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "cosign", Namespace: h.ns, Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}},
		Data:       map[string][]byte{"cosign.pub": h.pub.PublicKey},
	}))
	h.o = defaultOptions(t)
	h.o.manager.namespace, h.o.concurrency.maintenance = h.ns, 4
	for _, f := range tweak {
		f(&h.o)
	}
	t.Cleanup(h.cleanup)
	return h
}

// start runs the manager on env.
func (h *harness) start(env *testenv.Env) {
	h.t.Helper()
	opts, err := h.o.managerOptions()
	require.NoError(h.t, err)
	h.mgr = env.StartManager(h.t, opts, func(mgr ctrl.Manager) error {
		return h.o.setup(context.Background(), mgr, clock.RealClock{})
	})
}

// cleanup removes the test's shoots (envtest runs no namespace
// controller) and its cluster-scoped objects.
func (h *harness) cleanup() {
	ctx := context.Background()
	_ = h.c.DeleteAllOf(ctx, shoot.New(), client.InNamespace(h.ns))
	for _, o := range []client.Object{&profilev1alpha1.FalcoProfile{}, &falcopsv1alpha1.RuleSource{}, &falcopsv1alpha1.RolloutPolicy{}} {
		_ = h.c.DeleteAllOf(ctx, o)
	}
}

// applyProfile creates or replaces the FalcoProfile "falco" with versions
// given as "0.42.1=supported", each with engine version engines[v].
func applyProfile(t testing.TB, c client.Client, versions ...string) {
	t.Helper()
	ctx := context.Background()
	p := &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco"}}
	for _, v := range versions {
		ver, class, _ := strings.Cut(v, "=")
		p.Spec.Versions.Falco = append(p.Spec.Versions.Falco,
			profilev1alpha1.FalcoVersion{Version: ver, Classification: class, RulesVersion: ver, EngineVersion: engines[ver]})
		p.Spec.Images.Falco = append(p.Spec.Images.Falco, profilev1alpha1.ImageSpec{Version: ver, Repository: "falcosecurity/falco", Tag: ver})
	}
	old := &profilev1alpha1.FalcoProfile{}
	err := c.Get(ctx, types.NamespacedName{Name: "falco"}, old)
	if apierrors.IsNotFound(err) {
		require.NoError(t, c.Create(ctx, p))
		return
	}
	require.NoError(t, err)
	p.ResourceVersion = old.ResourceVersion
	require.NoError(t, c.Update(ctx, p))
}

// ruleSource creates a RuleSource for ruleset name following tag follow,
// verified with the key Secret "cosign".
func (h *harness) ruleSource(name, follow string) {
	h.t.Helper()
	require.NoError(h.t, h.c.Create(h.ctx, &falcopsv1alpha1.RuleSource{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: falcopsv1alpha1.RuleSourceSpec{
			Ruleset: name, Repository: h.pub.Repo(name), Follow: follow, Insecure: true,
			Interval: &metav1.Duration{Duration: time.Second},
			Verify:   falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: "cosign"}},
		},
	}))
}

// shoot creates a shoot with the Falco extension on Falco version.
func (h *harness) shoot(name, version string) *unstructured.Unstructured {
	h.t.Helper()
	u := shoot.New()
	u.SetName(name)
	u.SetNamespace(h.ns)
	u.SetLabels(map[string]string{servicev1alpha1.ShootLabel: "true"})
	u.Object["spec"] = map[string]any{
		"kubernetes": map[string]any{"version": "1.33.0"},
		"extensions": []any{map[string]any{"type": servicev1alpha1.Type, "providerConfig": map[string]any{
			"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind, "falcoVersion": version}}},
	}
	require.NoError(h.t, h.c.Create(h.ctx, u))
	return u
}

// falco reads a shoot's Falco config straight from the API server.
func (h *harness) falco(name string) *shoot.FalcoConfig {
	h.t.Helper()
	u := shoot.New()
	require.NoError(h.t, h.c.Get(h.ctx, types.NamespacedName{Namespace: h.ns, Name: name}, u))
	f, ok, err := shoot.FalcoOf(u)
	require.NoError(h.t, err)
	require.True(h.t, ok)
	return f
}

// eventually polls cond for up to 30 s.
func (h *harness) eventually(cond func(c *assert.CollectT), msg string) {
	h.t.Helper()
	require.EventuallyWithT(h.t, cond, 30*time.Second, 100*time.Millisecond, msg)
}

// waitReason waits until the shoot's ShootRollout has reason.
func (h *harness) waitReason(name, reason string) {
	h.t.Helper()
	h.eventually(func(c *assert.CollectT) {
		sr := &falcopsv1alpha1.ShootRollout{}
		if assert.NoError(c, h.c.Get(h.ctx, types.NamespacedName{Namespace: h.ns, Name: name}, sr), "ShootRollout %s", name) {
			assert.Equal(c, reason, sr.Status.Reason, "ShootRollout %s: %s", name, sr.Status.Message)
		}
	}, name+" should say "+reason)
}

// waitEvent waits for an event on shoot name with reason whose note
// contains text.
func (h *harness) waitEvent(name, reason, text string) {
	h.t.Helper()
	h.eventually(func(c *assert.CollectT) {
		var list eventsv1.EventList
		require.NoError(h.t, h.c.List(h.ctx, &list, client.InNamespace(h.ns)))
		for _, e := range list.Items {
			if e.Regarding.Kind == "Shoot" && e.Regarding.Name == name && e.Reason == reason && strings.Contains(e.Note, text) {
				return
			}
		}
		c.Errorf("no %s event containing %q on %s", reason, text, name)
	}, "event on "+name)
}
