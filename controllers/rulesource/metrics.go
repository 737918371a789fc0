package rulesource

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	registerOnce sync.Once

	registryRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "falcops_registry_requests_total",
		Help: "Registry requests made by the RuleSource controller, by HTTP method and status code (\"error\": no answer).",
	}, []string{"verb", "code"})
	registryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "falcops_registry_request_duration_seconds",
		Help:    "Duration of registry requests made by the RuleSource controller, by HTTP method.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"verb"})
	verificationFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "falcops_verification_failures_total",
		Help: "Digests that failed signature verification, by RuleSource.",
	}, []string{"rulesource"})
)

// registerMetrics adds the collectors to controller-runtime's registry once
// per process (several managers may run in one test binary).
func registerMetrics() {
	registerOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(registryRequests, registryDuration, verificationFailures)
	})
}

// instrumentedTransport counts and times every request that reaches the
// network: it sits below the oci client's retries and authentication, so
// each retry and token request is one count.
type instrumentedTransport struct {
	base  http.RoundTripper
	clock clock.PassiveClock
}

func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.clock.Now()
	resp, err := t.base.RoundTrip(req)
	registryDuration.WithLabelValues(req.Method).Observe(t.clock.Since(start).Seconds())
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	registryRequests.WithLabelValues(req.Method, code).Inc()
	return resp, err
}
