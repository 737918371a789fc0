package rulesource

import (
	"net/http"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/oci/ocitest"
)

// heapGrowthBound is how much the heap may grow while the controller polls
// a hostile registry; the attacks cost 280 MB to 2 GB before the bounds.
const heapGrowthBound = 100 << 20

// testHostileRegistry: against a registry that never answers, lists tags
// forever, or serves huge or endless signature manifests, huge payloads or
// long error texts, a reconcile ends within its RegistryTimeout, the
// RuleSource says why in a condition message under reconcile.MaxMessage,
// and the heap grows by less than heapGrowthBound.
func testHostileRegistry(t *testing.T, s *suite) {
	cases := []struct {
		name   string
		attack func(http.Handler) http.Handler
		want   string
	}{
		{name: "never answers", attack: ocitest.Silent(ocitest.AnyRequest), want: "context deadline exceeded"},
		{name: "one byte of the signature manifest every 5s", attack: ocitest.Trickle(ocitest.SignatureManifests, 5*time.Second), want: "context deadline exceeded"},
		{name: "endless tag list", attack: ocitest.EndlessTags(900 << 10), want: "more than 10000 tags"},
		{name: "300k-layer signature manifest", attack: ocitest.SignatureLayers(300_000, 300), want: "registry answer too large"},
		{name: "64 signature payloads of 120 MiB", attack: ocitest.SignatureLayers(64, 120<<20), want: "larger than the 65536 bytes falcops reads"},
		{name: "endless signature manifest", attack: ocitest.Endless(ocitest.SignatureManifests), want: "registry answer too large"},
		{name: "a 60 KiB error text", attack: ocitest.ErrorText(ocitest.SignatureManifests, 60<<10), want: "bytes cut)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			attack := &ocitest.Switch{}
			f := newFixture(t, s, fixtureOptions{wrap: attack.Wrap, registryTimeout: 2 * time.Second})
			f.publish("1.0.0", "0.40.0", "", publishOptions{key: &s.key})
			attack.Set(c.attack)
			peak := watchHeap(t)
			start := time.Now()
			name := f.createRuleSource(ruleSourceOptions{follow: "1", interval: time.Minute})
			rs := f.eventually(name, 20*time.Second, func(c2 *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
				got := reconcile.GetCondition(rs, falcopsv1alpha1.ReadyCondition)
				if assert.NotNil(c2, got) {
					assert.Equal(c2, metav1.ConditionFalse, got.Status)
					assert.Contains(c2, got.Message, c.want)
				}
			})
			growth := peak()
			msg := reconcile.GetCondition(rs, falcopsv1alpha1.ReadyCondition).Message
			t.Logf("after %s, heap grew by %.1f MB: %s: %.200s", time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20),
				reconcile.GetCondition(rs, falcopsv1alpha1.ReadyCondition).Reason, msg)
			assert.LessOrEqual(t, len(msg), reconcile.MaxMessage)
			assert.Less(t, growth, uint64(heapGrowthBound), "heap growth")
		})
	}
}

// watchHeap samples the heap every millisecond; the function it returns
// stops sampling and says how far the heap rose above where it started.
func watchHeap(t *testing.T) func() uint64 {
	t.Helper()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			peak.Store(max(peak.Load(), read()))
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var once atomic.Bool
	finish := func() uint64 {
		if once.CompareAndSwap(false, true) {
			close(stop)
			<-done
		}
		return max(peak.Load(), base) - base
	}
	t.Cleanup(func() { finish() })
	return finish
}
