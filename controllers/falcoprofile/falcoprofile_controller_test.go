package falcoprofile

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/yaml"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/testenv"
)

// gardenerProfile is a FalcoProfile as Gardener's extension documents it:
// no status.
const gardenerProfile = `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata:
  name: falco
spec:
  images:
    falco:
    - {version: 0.41.3, repository: falcosecurity/falco, tag: 0.41.3}
    - {version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}
  versions:
    falco:
    - {version: 0.41.3, classification: deprecated, expirationDate: "2027-01-31T23:59:59Z", rulesVersion: 4.0.0}
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
`

// TestProfileStatus runs the controller against a real API server: a
// Gardener FalcoProfile gets a Valid condition and the shoots per version,
// which follow ShootRollouts that change version; a profile that offers
// new shoots no default becomes Valid=False with lifecycle's text, and the
// condition's transition time moves only when its status does.
func TestProfileStatus(t *testing.T) {
	env := testenv.Start(t)
	ctx := t.Context()
	clk := clocktesting.NewFakeClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	env.StartManager(t, ctrl.Options{}, func(mgr ctrl.Manager) error {
		return (&Reconciler{Clock: clk}).SetupWithManager(ctx, mgr, controller.Options{})
	})
	var p profilev1alpha1.FalcoProfile
	require.NoError(t, yaml.UnmarshalStrict([]byte(gardenerProfile), &p))
	require.NoError(t, env.Client.Create(ctx, &p))
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "garden-x"}}))
	for i, v := range []string{"0.41.3", "0.41.3", "0.42.1"} {
		// ShootRollouts have no status subresource: the controller writes
		// them whole.
		r := &falcopsv1alpha1.ShootRollout{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i), Namespace: "garden-x"},
			Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: v}}
		require.NoError(t, env.Client.Create(ctx, r))
	}
	status := func(want []profilev1alpha1.VersionShoots, valid metav1.ConditionStatus) *profilev1alpha1.Status {
		t.Helper()
		var got *profilev1alpha1.Status
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var p profilev1alpha1.FalcoProfile
			require.NoError(c, env.Client.Get(ctx, client.ObjectKey{Name: "falco"}, &p))
			require.NotNil(c, p.Status)
			assert.Equal(c, want, p.Status.Shoots)
			cond := meta.FindStatusCondition(p.Status.Conditions, profilev1alpha1.ConditionValid)
			require.NotNil(c, cond)
			assert.Equal(c, valid, cond.Status, cond.Message)
			assert.Equal(c, p.Generation, p.Status.ObservedGeneration)
			got = p.Status
		}, 30*time.Second, 50*time.Millisecond)
		return got
	}
	first := status([]profilev1alpha1.VersionShoots{{Version: "0.41.3", Shoots: 2}, {Version: "0.42.1", Shoots: 1}}, metav1.ConditionTrue)
	since := meta.FindStatusCondition(first.Conditions, profilev1alpha1.ConditionValid).LastTransitionTime

	// A shoot moves up: the counts follow.
	var r falcopsv1alpha1.ShootRollout
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: "garden-x", Name: "s0"}, &r))
	r.Status.FalcoVersion = "0.42.1"
	clk.Step(time.Hour)
	require.NoError(t, env.Client.Update(ctx, &r))
	again := status([]profilev1alpha1.VersionShoots{{Version: "0.41.3", Shoots: 1}, {Version: "0.42.1", Shoots: 2}}, metav1.ConditionTrue)
	assert.True(t, since.Equal(&meta.FindStatusCondition(again.Conditions, profilev1alpha1.ConditionValid).LastTransitionTime),
		"the transition time stays while Valid stays True")

	// The supported version is deprecated: new shoots would get no default.
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Name: "falco"}, &p))
	p.Spec.Versions.Falco[1].Classification = profilev1alpha1.ClassificationDeprecated
	require.NoError(t, env.Client.Update(ctx, &p))
	bad := status([]profilev1alpha1.VersionShoots{{Version: "0.41.3", Shoots: 1}, {Version: "0.42.1", Shoots: 2}}, metav1.ConditionFalse)
	cond := meta.FindStatusCondition(bad.Conditions, profilev1alpha1.ConditionValid)
	assert.Equal(t, "Invalid", cond.Reason)
	assert.Equal(t, "no supported Falco version is unexpired, so new shoots would get no default version", cond.Message)
	assert.True(t, cond.LastTransitionTime.After(since.Time), "the transition time moves with the status")
}

// TestNextExpiry: the controller comes back when the next expiration date
// passes, since validity depends on it.
func TestNextExpiry(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	date := func(s string) *string { return &s }
	all := []profilev1alpha1.FalcoProfile{{Spec: profilev1alpha1.Spec{Versions: profilev1alpha1.Versions{Falco: []profilev1alpha1.FalcoVersion{
		{Version: "a", ExpirationDate: date("2026-12-01T00:00:00Z")}, // passed
		{Version: "b", ExpirationDate: date("2026-12-05T12:00:00Z")},
		{Version: "c", ExpirationDate: date("2026-12-04T13:00:00Z")},
		{Version: "d", ExpirationDate: date("not a date")},
		{Version: "e"},
	}}}}}
	assert.Equal(t, time.Hour+time.Second, nextExpiry(all, now))
	assert.Zero(t, nextExpiry(all[:0], now))
}

func TestMain(m *testing.M) { testenv.Main(m) }
