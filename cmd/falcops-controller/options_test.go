package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// TestFlags: the flags scripts use keep working, --concurrency included,
// and the new per-controller and retry flags have their defaults.
func TestFlags(t *testing.T) {
	o := defaultOptions(t)
	assert.Equal(t, 16, o.concurrency.maintenance)
	assert.Equal(t, 4, o.concurrency.ruleSource)
	assert.Equal(t, 1, o.concurrency.rolloutPolicy)
	assert.Equal(t, 750*time.Millisecond, o.retry.minDelay)
	assert.Equal(t, 15*time.Minute, o.retry.maxDelay)

	var got options
	fs := newFlagSet()
	got.BindFlags(fs)
	require.NoError(t, fs.Parse([]string{
		"--metrics-bind-address=:9090", "--health-probe-bind-address=:9091", "--leader-elect", "--namespace=ops",
		"--concurrency=8", "--kube-api-qps=50", "--kube-api-burst=100", "--poll-interval=30s", "--poll-jitter=0.2", "--registry-timeout=45s",
		"--rollout-policy=fleet", "--allow-forced-downgrade", "--shoot-selector=a=b", "--operator-config=../../config/extension/configuration.yaml",
		"--rulesource-concurrency=2", "--rolloutpolicy-concurrency=3", "--min-retry-delay=1s", "--max-retry-delay=1m",
	}))
	assert.Equal(t, managerOptions{metricsAddr: ":9090", probeAddr: ":9091", leaderElect: true, namespace: "ops",
		qps: 50, burst: 100, shootSelector: "a=b"}, got.manager)
	assert.Equal(t, concurrencyOptions{maintenance: 8, ruleSource: 2, rolloutPolicy: 3}, got.concurrency)
	assert.Equal(t, retryOptions{minDelay: time.Second, maxDelay: time.Minute}, got.retry)
	assert.Equal(t, pollOptions{interval: 30 * time.Second, jitter: 0.2, timeout: 45 * time.Second}, got.poll)
	assert.Equal(t, rolloutOptions{policy: "fleet", allowForcedDowngrade: true, operatorConfig: "../../config/extension/configuration.yaml"}, got.rollout)
	op, err := got.rollout.operator()
	require.NoError(t, err)
	assert.Equal(t, []string{"falco-rules", "gardener-tuning", "heartbeat"}, op.Rulesets([]string{"falco-rules"}, true))
	bad := rolloutOptions{operatorConfig: "options_test.go"}
	_, err = bad.operator()
	assert.ErrorContains(t, err, "--operator-config options_test.go")

	require.NoError(t, fs.Parse([]string{"--maintenance-concurrency=12"}))
	assert.Equal(t, 12, got.concurrency.maintenance, "--maintenance-concurrency and --concurrency are one setting")
}

func TestRetryOptions(t *testing.T) {
	o := retryOptions{minDelay: 750 * time.Millisecond, maxDelay: 15 * time.Minute}
	require.NoError(t, o.validate())
	opts := o.controllerOptions(5)
	assert.Equal(t, 5, opts.MaxConcurrentReconciles)
	req := ctrlreconcile.Request{NamespacedName: types.NamespacedName{Name: "x"}}
	assert.Equal(t, 750*time.Millisecond, opts.RateLimiter.When(req))
	assert.Equal(t, 1500*time.Millisecond, opts.RateLimiter.When(req), "the delay doubles per failure")
	for range 20 {
		opts.RateLimiter.When(req)
	}
	assert.Equal(t, 15*time.Minute, opts.RateLimiter.When(req), "capped at the maximum")
	assert.NotSame(t, opts.RateLimiter, o.controllerOptions(5).RateLimiter, "each controller gets its own limiter")

	for _, bad := range []retryOptions{{0, time.Minute}, {time.Minute, time.Second}} {
		assert.Error(t, bad.validate(), "%+v", bad)
	}
}
