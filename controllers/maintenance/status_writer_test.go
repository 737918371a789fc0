package maintenance

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/scheme"
)

// TestStatusWriter: the writer creates, then patches, returns its own
// newest state before the write lands (read-your-writes), and writes only
// the newest of several quick changes.
func TestStatusWriter(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme.New()).Build()
	w := newStatusWriter(c, clock.RealClock{}, 1)
	ctx := context.Background()
	key := types.NamespacedName{Namespace: "garden-x", Name: "prod"}

	sr, exists, err := w.current(ctx, key)
	if err != nil || exists || sr.Name != "prod" {
		t.Fatalf("current of a new shoot = %+v, %v, %v", sr, exists, err)
	}
	for _, v := range []string{"0.41.3", "0.42.1", "0.43.0"} {
		sr.Status.FalcoVersion = v
		w.set(sr)
	}
	got, exists, _ := w.current(ctx, key)
	if !exists || got.Status.FalcoVersion != "0.43.0" {
		t.Fatalf("before the write, current = %q (exists %v), want the newest desired 0.43.0", got.Status.FalcoVersion, exists)
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = w.Start(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	waitStored := func(version string) *falcopsv1alpha1.ShootRollout {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			stored := &falcopsv1alpha1.ShootRollout{}
			if err := c.Get(ctx, key, stored); err == nil && stored.Status.FalcoVersion == version {
				return stored
			}
			if time.Now().After(deadline) {
				t.Fatalf("ShootRollout never stored with %s", version)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	stored := waitStored("0.43.0")
	rv := stored.ResourceVersion

	// An unchanged status writes nothing; a change patches.
	w.set(stored)
	time.Sleep(200 * time.Millisecond)
	if again := waitStored("0.43.0"); again.ResourceVersion != rv {
		t.Fatal("an unchanged status was written again")
	}
	stored.Status.Reason = falcopsv1alpha1.ReasonAutoUpdate
	stored.Status.LastTransitionTime = &metav1.Time{Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	w.set(stored)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := &falcopsv1alpha1.ShootRollout{}
		if err := c.Get(ctx, key, got); err == nil && got.Status.Reason == falcopsv1alpha1.ReasonAutoUpdate && got.Status.LastTransitionTime != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change was not patched")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
