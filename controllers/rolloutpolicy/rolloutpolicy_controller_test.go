package rolloutpolicy

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

func testShoot(name, wave, version string) *unstructured.Unstructured {
	u := shoot.New()
	u.SetNamespace("garden-x")
	u.SetName(name)
	u.SetLabels(map[string]string{"wave": wave})
	u.Object["spec"] = map[string]any{"extensions": []any{map[string]any{"type": servicev1alpha1.Type, "providerConfig": map[string]any{
		"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind, "falcoVersion": version}}}}
	return u
}

// TestWavesOpenAfterPause drives the reconciler with a fake clock: wave two
// opens only after wave one is done and the pause has passed; a paused
// policy halts.
func TestWavesOpenAfterPause(t *testing.T) {
	// Long: one policy stepped through a whole rollout with a fake clock.
	s := scheme.New()
	s.AddKnownTypeWithName(shoot.GVK, &unstructured.Unstructured{})
	s.AddKnownTypeWithName(shoot.GVK.GroupVersion().WithKind("ShootList"), &unstructured.UnstructuredList{})
	prof := &profilev1alpha1.FalcoProfile{ObjectMeta: metav1.ObjectMeta{Name: "falco"}}
	for _, v := range []string{"0.42.1", "0.43.0"} {
		prof.Spec.Versions.Falco = append(prof.Spec.Versions.Falco, profilev1alpha1.FalcoVersion{Version: v, Classification: "supported", RulesVersion: v, EngineVersion: "0.52.0"})
		prof.Spec.Images.Falco = append(prof.Spec.Images.Falco, profilev1alpha1.ImageSpec{Version: v, Repository: "falco", Tag: v})
	}
	policy := &falcopsv1alpha1.RolloutPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: falcopsv1alpha1.RolloutPolicySpec{
		Waves: []falcopsv1alpha1.Wave{
			{Name: "one", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"wave": "one"}}},
			{Name: "two", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"wave": "two"}}},
		},
		Pause: &metav1.Duration{Duration: 10 * time.Minute},
	}}
	c := fake.NewClientBuilder().WithScheme(s).WithStatusSubresource(&falcopsv1alpha1.RolloutPolicy{}).
		WithObjects(prof, policy, testShoot("a", "one", "0.42.1"), testShoot("b", "two", "0.42.1")).Build()
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	recorder := events.NewFakeRecorder(100)
	r := &Reconciler{Client: c, Clock: clk, Recorder: recorder, Inputs: &rollout.InputsCache{}}
	ctx := context.Background()
	key := types.NamespacedName{Name: "default"}
	reconcileOnce := func() (ctrl.Result, *falcopsv1alpha1.RolloutPolicy) {
		t.Helper()
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
		require.NoError(t, err)
		p := &falcopsv1alpha1.RolloutPolicy{}
		require.NoError(t, c.Get(ctx, key, p))
		return res, p
	}
	move := func(name, wave string) {
		t.Helper()
		u := testShoot(name, wave, "0.43.0")
		cur := shoot.New()
		require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(u), cur))
		u.SetResourceVersion(cur.GetResourceVersion())
		require.NoError(t, c.Update(ctx, u))
	}
	ready := func(p *falcopsv1alpha1.RolloutPolicy) string {
		t.Helper()
		c := reconcile.GetCondition(p, falcopsv1alpha1.ReadyCondition)
		require.NotNil(t, c, "Ready")
		return c.Reason
	}

	_, p := reconcileOnce()
	assert.EqualValues(t, 1, p.Status.OpenWaves)
	assert.Equal(t, "one", p.Status.CurrentWave)
	require.Len(t, p.Status.Waves, 2)
	assert.EqualValues(t, 1, p.Status.Waves[0].Shoots)
	assert.EqualValues(t, 0, p.Status.Waves[0].UpToDate)
	assert.Equal(t, falcopsv1alpha1.ReasonWaveInProgress, ready(p))
	assert.Equal(t, corev1.EventTypeNormal+" "+falcopsv1alpha1.ReasonWaveInProgress+" wave one: 0 of 1 shoots up to date", <-recorder.Events)

	move("a", "one")
	res, p := reconcileOnce()
	assert.EqualValues(t, 1, p.Status.OpenWaves)
	assert.NotNil(t, p.Status.Waves[0].CompletedAt, "wave one done")
	assert.Equal(t, 10*time.Minute, res.RequeueAfter)
	assert.Equal(t, falcopsv1alpha1.ReasonPausing, ready(p))

	clk.Step(9 * time.Minute)
	res, p = reconcileOnce()
	assert.EqualValues(t, 1, p.Status.OpenWaves, "during the pause")
	assert.Equal(t, time.Minute, res.RequeueAfter)

	clk.Step(time.Minute)
	_, p = reconcileOnce()
	assert.EqualValues(t, 2, p.Status.OpenWaves, "after the pause")
	assert.Equal(t, "two", p.Status.CurrentWave)

	// Halt by hand: Halted, and Ready says so.
	p.Spec.Paused = true
	require.NoError(t, c.Update(ctx, p))
	_, p = reconcileOnce()
	assert.True(t, reconcile.IsTrue(p, falcopsv1alpha1.HaltedCondition), "paused policy halted: %+v", p.Status.Conditions)
	assert.Equal(t, falcopsv1alpha1.ReasonPaused, ready(p))

	p.Spec.Paused = false
	require.NoError(t, c.Update(ctx, p))
	move("b", "two")
	_, p = reconcileOnce()
	assert.Equal(t, falcopsv1alpha1.ReasonComplete, ready(p))
	assert.False(t, reconcile.IsTrue(p, falcopsv1alpha1.HaltedCondition))
	assert.Equal(t, p.Generation, p.Status.ObservedGeneration)
}

// TestBlockedInputsStall: without a profile the policy stalls with the
// reason the decision package names, and a warning says so once.
func TestBlockedInputsStall(t *testing.T) {
	s := scheme.New()
	s.AddKnownTypeWithName(shoot.GVK.GroupVersion().WithKind("ShootList"), &unstructured.UnstructuredList{})
	policy := &falcopsv1alpha1.RolloutPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	c := fake.NewClientBuilder().WithScheme(s).WithStatusSubresource(&falcopsv1alpha1.RolloutPolicy{}).WithObjects(policy).Build()
	recorder := events.NewFakeRecorder(10)
	r := &Reconciler{Client: c, Clock: clocktesting.NewFakeClock(time.Now()), Recorder: recorder, Inputs: &rollout.InputsCache{}}
	for range 2 {
		res, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Name: "default"}})
		require.NoError(t, err, "a stall is not retried")
		assert.Zero(t, res)
	}
	p := &falcopsv1alpha1.RolloutPolicy{}
	require.NoError(t, c.Get(context.Background(), types.NamespacedName{Name: "default"}, p))
	st := reconcile.GetCondition(p, falcopsv1alpha1.StalledCondition)
	require.NotNil(t, st)
	assert.Equal(t, metav1.ConditionTrue, st.Status)
	assert.Equal(t, falcopsv1alpha1.ReasonNoProfile, st.Reason)
	assert.Equal(t, "no FalcoProfile exists", st.Message)
	assert.Nil(t, reconcile.GetCondition(p, falcopsv1alpha1.HaltedCondition), "the halt rule was not evaluated")
	assert.Zero(t, p.Status.ObservedGeneration)
	require.Len(t, recorder.Events, 1)
	assert.Equal(t, corev1.EventTypeWarning+" "+falcopsv1alpha1.ReasonNoProfile+" no FalcoProfile exists", <-recorder.Events)
}
