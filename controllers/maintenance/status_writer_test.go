package maintenance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	assert.False(t, exists, "a new shoot has no ShootRollout")
	assert.Equal(t, "prod", sr.Name)
	for _, v := range []string{"0.41.3", "0.42.1", "0.43.0"} {
		sr.Status.FalcoVersion = v
		w.set(sr)
	}
	got, exists, err := w.current(ctx, key)
	require.NoError(t, err)
	assert.True(t, exists)
	assert.Equal(t, "0.43.0", got.Status.FalcoVersion, "before the write, current is the newest desired state")

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = w.Start(runCtx); close(done) }()
	defer func() { cancel(); <-done }()

	stored := func(ct *assert.CollectT, cond func(*falcopsv1alpha1.ShootRollout) bool) *falcopsv1alpha1.ShootRollout {
		got := &falcopsv1alpha1.ShootRollout{}
		if assert.NoError(ct, c.Get(ctx, key, got)) {
			assert.True(ct, cond(got), "stored: %+v", got.Status)
		}
		return got
	}
	var first *falcopsv1alpha1.ShootRollout
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		first = stored(ct, func(sr *falcopsv1alpha1.ShootRollout) bool { return sr.Status.FalcoVersion == "0.43.0" })
	}, 10*time.Second, 10*time.Millisecond, "ShootRollout stored with the newest state")
	rv := first.ResourceVersion

	// An unchanged status writes nothing; a change patches.
	w.set(first)
	time.Sleep(200 * time.Millisecond)
	again := &falcopsv1alpha1.ShootRollout{}
	require.NoError(t, c.Get(ctx, key, again))
	assert.Equal(t, rv, again.ResourceVersion, "an unchanged status was written again")

	first.Status.Reason = falcopsv1alpha1.ReasonAutoUpdate
	first.Status.LastTransitionTime = &metav1.Time{Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	w.set(first)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		stored(ct, func(sr *falcopsv1alpha1.ShootRollout) bool {
			return sr.Status.Reason == falcopsv1alpha1.ReasonAutoUpdate && sr.Status.LastTransitionTime != nil
		})
	}, 10*time.Second, 10*time.Millisecond, "the change is patched")
}
