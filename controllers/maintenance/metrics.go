package maintenance

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/falcops/falcops/internal/shoot"
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
	pins    string // "name|version|digest" joined by ","
}

func newMetrics() *metrics {
	registerOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(shootsByVersion, shootsByDigest, updates)
	})
	return &metrics{shoots: map[types.NamespacedName]observed{}}
}

func (m *metrics) observe(key types.NamespacedName, f *shoot.Falco) {
	var pins []string
	for _, p := range f.Pins {
		pins = append(pins, p.Name+"|"+p.Version+"|"+digestOf(p.Ref))
	}
	now := observed{version: f.Version, pins: strings.Join(pins, ",")}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, had := m.shoots[key]
	if had && old == now {
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
	if o.pins == "" {
		return
	}
	for _, p := range strings.Split(o.pins, ",") {
		parts := strings.SplitN(p, "|", 3)
		shootsByDigest.WithLabelValues(parts[0], parts[1], parts[2]).Add(delta)
	}
}

func (m *metrics) applied(reason string) { updates.WithLabelValues(reason).Inc() }
