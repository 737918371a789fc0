package rollout

import (
	"context"
	"testing"
	"time"

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
	"github.com/falcops/falcops/internal/conditions"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/internal/shoot"
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
	r := &Reconciler{Client: c, Clock: clk, Recorder: events.NewFakeRecorder(100)}
	ctx := context.Background()
	key := types.NamespacedName{Name: "default"}
	reconcile := func() (ctrl.Result, *falcopsv1alpha1.RolloutPolicy) {
		t.Helper()
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
		if err != nil {
			t.Fatal(err)
		}
		p := &falcopsv1alpha1.RolloutPolicy{}
		if err := c.Get(ctx, key, p); err != nil {
			t.Fatal(err)
		}
		return res, p
	}
	move := func(name, wave string) {
		t.Helper()
		u := testShoot(name, wave, "0.43.0")
		cur := shoot.New()
		if err := c.Get(ctx, client.ObjectKeyFromObject(u), cur); err != nil {
			t.Fatal(err)
		}
		u.SetResourceVersion(cur.GetResourceVersion())
		if err := c.Update(ctx, u); err != nil {
			t.Fatal(err)
		}
	}

	_, p := reconcile()
	if p.Status.OpenWaves != 1 || p.Status.CurrentWave != "one" || p.Status.Waves[0].Shoots != 1 || p.Status.Waves[0].UpToDate != 0 {
		t.Fatalf("start: %+v", p.Status)
	}
	if c := conditions.Get(p, falcopsv1alpha1.ReadyCondition); c == nil || c.Reason != falcopsv1alpha1.ReasonWaveInProgress {
		t.Fatalf("Ready = %+v, want WaveInProgress", c)
	}

	move("a", "one")
	res, p := reconcile()
	if p.Status.OpenWaves != 1 || p.Status.Waves[0].CompletedAt == nil || res.RequeueAfter != 10*time.Minute {
		t.Fatalf("wave one done: open %d, completed %v, requeue %s; want 1, set, 10m", p.Status.OpenWaves, p.Status.Waves[0].CompletedAt, res.RequeueAfter)
	}
	clk.Step(9 * time.Minute)
	res, p = reconcile()
	if p.Status.OpenWaves != 1 || res.RequeueAfter != time.Minute {
		t.Fatalf("during the pause: open %d, requeue %s", p.Status.OpenWaves, res.RequeueAfter)
	}
	clk.Step(time.Minute)
	_, p = reconcile()
	if p.Status.OpenWaves != 2 || p.Status.CurrentWave != "two" {
		t.Fatalf("after the pause: %+v", p.Status)
	}

	// Halt by hand: Halted, and Ready says so.
	p.Spec.Paused = true
	if err := c.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, p = reconcile()
	if !conditions.IsTrue(p, falcopsv1alpha1.HaltedCondition) {
		t.Fatalf("paused policy not halted: %+v", p.Status.Conditions)
	}
	p.Spec.Paused = false
	if err := c.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	move("b", "two")
	_, p = reconcile()
	if c := conditions.Get(p, falcopsv1alpha1.ReadyCondition); c == nil || c.Reason != falcopsv1alpha1.ReasonComplete || conditions.IsTrue(p, falcopsv1alpha1.HaltedCondition) {
		t.Fatalf("complete: Ready %+v, conditions %+v", c, p.Status.Conditions)
	}
}
