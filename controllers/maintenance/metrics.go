package maintenance

import (
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/shoot"
)

var (
	registerOnce sync.Once

	shootsByVersion = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "falcops_shoots_falco_version",
		Help: "Shoots with the Falco extension, by the Falco version in their FalcoServiceConfig.",
	}, []string{"version"})
	shootsByDigest = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "falcops_shoots_ruleset_digest",
		Help: "Shoots by pinned ruleset version and digest.",
	}, []string{"ruleset", "version", "digest"})
	updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "falcops_shoot_updates_total",
		Help: "Shoot patches made by the maintenance controller, by reason.",
	}, []string{"reason"})
)

// metrics keeps the per-shoot values behind the gauges, so a shoot that
// moves is counted once, under its new labels.
type metrics struct {
	mu     sync.Mutex
	shoots map[types.NamespacedName]observed
}

type observed struct {
	version string
	pins    []servicev1alpha1.PinnedRuleset
}

func (o observed) equal(p observed) bool {
	return o.version == p.version && slices.Equal(o.pins, p.pins)
}

func newMetrics() *metrics {
	registerOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(shootsByVersion, shootsByDigest, updates)
	})
	return &metrics{shoots: map[types.NamespacedName]observed{}}
}

func (m *metrics) observe(key types.NamespacedName, f *shoot.FalcoConfig) {
	now := observed{version: f.Version, pins: slices.Clone(f.Pins)}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, had := m.shoots[key]
	if had && old.equal(now) {
		return
	}
	if had {
		m.add(old, -1)
	}
	m.shoots[key] = now
	m.add(now, 1)
}

func (m *metrics) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, had := m.shoots[key]; had {
		m.add(old, -1)
		delete(m.shoots, key)
	}
}

func (m *metrics) add(o observed, delta float64) {
	if o.version != "" {
		shootsByVersion.WithLabelValues(o.version).Add(delta)
	}
	for _, p := range o.pins {
		shootsByDigest.WithLabelValues(p.Name, p.Version, p.Digest()).Add(delta)
	}
}

func (m *metrics) applied(reason string) { updates.WithLabelValues(reason).Inc() }
