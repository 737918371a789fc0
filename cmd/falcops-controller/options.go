package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/rulesource"
	"github.com/falcops/falcops/oci"
)

// options are the command-line flags, in groups that bind their own flags.
type options struct {
	manager     managerOptions
	concurrency concurrencyOptions
	retry       retryOptions
	poll        pollOptions
	rollout     rolloutOptions
	webhooks    webhookOptions
	dashboard   dashboardOptions
}

// BindFlags binds every group's flags to fs.
func (o *options) BindFlags(fs *pflag.FlagSet) {
	o.manager.BindFlags(fs)
	o.concurrency.BindFlags(fs)
	o.retry.BindFlags(fs)
	o.poll.BindFlags(fs)
	o.rollout.BindFlags(fs)
	o.webhooks.BindFlags(fs)
	o.dashboard.BindFlags(fs)
}

// webhookOptions configure the admission webhooks' server.
type webhookOptions struct {
	enabled bool
	host    string
	port    int
	certDir string
}

// BindFlags binds the webhook flags to fs.
func (o *webhookOptions) BindFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.enabled, "webhooks", false, "Serve the Shoot and FalcoProfile admission webhooks (config/webhook registers them); /readyz fails until their caches synced.")
	fs.StringVar(&o.host, "webhook-host", "", "Address the webhook server listens on (default: all).")
	fs.IntVar(&o.port, "webhook-port", 9443, "Port of the webhook server (HTTPS).")
	fs.StringVar(&o.certDir, "webhook-cert-dir", "", "Folder with the webhook server's tls.crt and tls.key, re-read when they change (default: controller-runtime's, /tmp/k8s-webhook-server/serving-certs).")
}

// Long help texts.
const (
	namespaceHelp = "The controller's namespace: RuleSource key Secrets and the leader Lease live here; " +
		"no other Secrets are read or cached."
	shootSelectorHelp = "Label selector of the shoots to manage and cache (Gardener sets this label on shoots with the " +
		"Falco extension; \"\" caches all shoots)."
	rolloutPolicyHelp  = "Name of the RolloutPolicy that orders changes in waves; without that object all shoots form one wave."
	allowDowngradeHelp = "Let an expired or removed Falco version move to a lower one when no higher one is left " +
		"(off: such shoots are blocked and say so)."
	minRetryDelayHelp = "Delay before the first retry of a failed reconcile; it doubles per consecutive failure " +
		"of the same object, up to --max-retry-delay."
	maxRetryDelayHelp  = "Longest delay between retries of a failed reconcile."
	operatorConfigHelp = "The extension's operator configuration (config.falcops.io/v1alpha1 Configuration): shoots are " +
		"also pinned to the rulesets its rules.implies adds to each standard selection, and to rules.heartbeat when heartbeatEvent is on."
)

// managerOptions configure the manager: endpoints, leader election, the
// controller's namespace, API server limits and the shoot cache.
type managerOptions struct {
	metricsAddr, probeAddr string
	metricsInsecure        bool
	leaderElect            bool
	namespace              string
	qps                    float32
	burst                  int
	shootSelector          string
}

// BindFlags binds the manager flags to fs.
func (o *managerOptions) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint (\"0\" turns it off).")
	fs.BoolVar(&o.metricsInsecure, "metrics-insecure", false, "Serve /metrics over plain HTTP to anyone (default: HTTPS, and only to callers that the API server authenticates and authorizes for GET /metrics).")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader (a Lease in --namespace), so only one replica acts.")
	fs.StringVar(&o.namespace, "namespace", envOr("POD_NAMESPACE", "falcops-system"), namespaceHelp)
	fs.Float32Var(&o.qps, "kube-api-qps", 200, "Sustained requests per second to the API server.")
	fs.IntVar(&o.burst, "kube-api-burst", 400, "Burst of requests to the API server.")
	fs.StringVar(&o.shootSelector, "shoot-selector", servicev1alpha1.ShootLabel+"=true", shootSelectorHelp)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// concurrencyOptions are the objects each controller reconciles at once.
type concurrencyOptions struct {
	maintenance, ruleSource, rolloutPolicy int
}

// BindFlags binds the concurrency flags to fs. --concurrency, the first
// flag of its kind, stays as another name of --maintenance-concurrency.
func (o *concurrencyOptions) BindFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.maintenance, "maintenance-concurrency", 16, "Shoots reconciled in parallel.")
	fs.IntVar(&o.maintenance, "concurrency", 16, "Shoots reconciled in parallel (the same as --maintenance-concurrency).")
	fs.IntVar(&o.ruleSource, "rulesource-concurrency", 4, "RuleSources reconciled in parallel.")
	fs.IntVar(&o.rolloutPolicy, "rolloutpolicy-concurrency", 1, "RolloutPolicies reconciled in parallel.")
}

// retryOptions configure the rate limiter of every controller: how long a
// failed reconcile waits before it is retried.
type retryOptions struct {
	minDelay, maxDelay time.Duration
}

// BindFlags binds the retry flags to fs.
func (o *retryOptions) BindFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.minDelay, "min-retry-delay", 750*time.Millisecond, minRetryDelayHelp)
	fs.DurationVar(&o.maxDelay, "max-retry-delay", 15*time.Minute, maxRetryDelayHelp)
}

func (o *retryOptions) validate() error {
	if o.minDelay <= 0 || o.maxDelay < o.minDelay {
		return fmt.Errorf("--min-retry-delay %s and --max-retry-delay %s: want 0 < min <= max", o.minDelay, o.maxDelay)
	}
	return nil
}

// controllerOptions returns the options of one controller: its
// concurrency and a rate limiter of its own (the limiter counts failures
// per queued request).
func (o *retryOptions) controllerOptions(concurrency int) controller.Options {
	return controller.Options{
		MaxConcurrentReconciles: concurrency,
		RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[ctrlreconcile.Request](o.minDelay, o.maxDelay),
	}
}

// pollOptions configure RuleSource polling.
type pollOptions struct {
	interval time.Duration
	jitter   float64
	timeout  time.Duration
}

// BindFlags binds the poll flags to fs.
func (o *pollOptions) BindFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.interval, "poll-interval", time.Minute, "Default RuleSource poll interval (spec.interval overrides it).")
	fs.Float64Var(&o.jitter, "poll-jitter", 0.1, "Random extra fraction of the interval added to each poll (0 to 1).")
	fs.DurationVar(&o.timeout, "registry-timeout", rulesource.DefaultRegistryTimeout, fmt.Sprintf("Deadline for all registry requests of one RuleSource reconcile (each request also gets %s for its headers and %s for any pause in its body).", oci.DefaultHeaderTimeout, oci.DefaultIdleTimeout))
}

// rolloutOptions configure the rollout decisions, the same for the
// maintenance and rolloutpolicy controllers.
type rolloutOptions struct {
	policy               string
	allowForcedDowngrade bool
	operatorConfig       string
}

// BindFlags binds the rollout flags to fs.
func (o *rolloutOptions) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.policy, "rollout-policy", "default", rolloutPolicyHelp)
	fs.BoolVar(&o.allowForcedDowngrade, "allow-forced-downgrade", false, allowDowngradeHelp)
	fs.StringVar(&o.operatorConfig, "operator-config", "", operatorConfigHelp)
}

// operator reads --operator-config: its rules.implies and rules.heartbeat
// say which rulesets to pin besides the standard selections (nil: none).
func (o *rolloutOptions) operator() (*configv1alpha1.Configuration, error) {
	if o.operatorConfig == "" {
		return nil, nil
	}
	data, err := os.ReadFile(o.operatorConfig)
	if err != nil {
		return nil, fmt.Errorf("--operator-config: %w", err)
	}
	c, err := configv1alpha1.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("--operator-config %s: %w", o.operatorConfig, err)
	}
	configv1alpha1.Default(c)
	return c, nil
}
