package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/scheme"
)

// Options configure the local garden.
type Options struct {
	// State is the directory everything lives in.
	State string
	// Shoots is how many sample shoots the garden gets (the demo shoot,
	// the others, and one shoot on a removed Falco version).
	Shoots int
	// Pause is the sample policy's pause between waves; PollInterval the
	// controller's RuleSource poll interval.
	Pause, PollInterval time.Duration
	// Assets is the folder of the envtest binaries; GardenerCRDs the
	// folder of the seed's CRDs.
	Assets, GardenerCRDs string
	// Repo is the repository root: CRDs, webhook configurations, the
	// operator configuration and the profile come from it.
	Repo string
	// Bin is the folder of falcops-controller and falcops-extension.
	Bin string
	// Registry is what the embedded registry holds.
	Registry Registry
	// DashboardAddr is the controller's --dashboard-bind-address.
	DashboardAddr string
	Out           io.Writer
	// Clock sets the sample shoots' maintenance windows around its now.
	Clock clock.PassiveClock
}

// Registry is the embedded registry and what was published to it.
type Registry struct {
	// Host is HOST:PORT; Prefix the repository prefix.
	Host, Prefix string
	// PublicKey is the path of the signing key's cosign.pub.
	PublicKey string
	// Rulesets are the published ruleset names.
	Rulesets []string
}

// Repo is the repository of artifact name.
func (r Registry) Repo(name string) string { return r.Host + "/" + r.Prefix + "/" + name }

// RemovedVersion is the Falco version of the sample shoot whose version
// the profile no longer has: nothing higher is left, so the controller
// blocks it (no silent downgrade).
const RemovedVersion = "0.45.0"

// Env is a running local garden.
type Env struct {
	o                   Options
	garden, seed, shoot *cluster
	children            []*child
	samples             []Sample
}

// Start starts the clusters, fills the garden, starts the falcops
// binaries and returns once they are ready; Stop stops it all.
func Start(ctx context.Context, o Options) (e *Env, err error) {
	e = &Env{o: o}
	defer func() {
		if err != nil {
			err = errors.Join(err, e.Stop())
			e = nil
		}
	}()
	for _, bin := range []string{"falcops-controller", "falcops-extension"} {
		if _, err := os.Stat(filepath.Join(o.Bin, bin)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: build it with `make build` (make dev does)", bin, o.Bin)
		}
	}
	e.progress("starting the garden, seed and shoot API servers (envtest binaries in %s)", o.Assets)
	if e.garden, err = startCluster("garden", o.State, o.Assets, []string{filepath.Join(o.Repo, "config", "crd", "bases"),
		filepath.Join(o.Repo, "internal", "testenv", "crds")}, scheme.New()); err != nil {
		return e, err
	}
	if e.seed, err = startCluster("seed", o.State, o.Assets, []string{o.GardenerCRDs}, scheme.Seed()); err != nil {
		return e, err
	}
	if e.shoot, err = startCluster("shoot", o.State, o.Assets, nil, scheme.Seed()); err != nil {
		return e, err
	}
	e.progress("filling the garden: profile, RuleSources, RolloutPolicy, projects")
	if err := e.fillGarden(ctx); err != nil {
		return e, err
	}
	if err := e.startController(ctx); err != nil {
		return e, err
	}
	e.progress("creating %d sample shoots", o.Shoots)
	if err := e.createShoots(ctx); err != nil {
		return e, err
	}
	if err := e.startExtension(ctx); err != nil {
		return e, err
	}
	return e, nil
}

func (e *Env) progress(format string, args ...any) {
	fmt.Fprintf(e.o.Out, "dev: "+format+"\n", args...)
}

// path is a path in the state directory.
func (e *Env) path(parts ...string) string {
	return filepath.Join(append([]string{e.o.State}, parts...)...)
}

// ProfilePath is the garden FalcoProfile's file: edit it (falcops profile
// promote) and apply it.
func (e *Env) ProfilePath() string { return e.path("falco.yaml") }

// Kubeconfig is the admin kubeconfig of cluster garden, seed or shoot.
func (e *Env) Kubeconfig(cluster string) string { return e.path(cluster + ".kubeconfig") }

func (e *Env) fillGarden(ctx context.Context) error {
	c := e.garden.Client
	// Webhook configurations left by an earlier run would refuse every
	// write until the controller is back: they are registered again below.
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("admissionregistration.k8s.io/v1")
		u.SetKind(kind)
		u.SetName("falcops-shoot-falco-service")
		if err := c.Delete(ctx, u); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	pub, err := os.ReadFile(e.o.Registry.PublicKey)
	if err != nil {
		return err
	}
	if err := ensure(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "falcops-system"}}); err != nil {
		return err
	}
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: KeySecret, Namespace: "falcops-system",
		Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}}, Data: map[string][]byte{"cosign.pub": pub}}
	if err := createOrUpdate(ctx, c, key, func() { key.Data = map[string][]byte{"cosign.pub": pub} }); err != nil {
		return err
	}
	profile, err := e.profile()
	if err != nil {
		return err
	}
	if err := apply(ctx, c, profile); err != nil {
		return fmt.Errorf("FalcoProfile %s: %w", e.ProfilePath(), err)
	}
	for _, name := range e.o.Registry.Rulesets {
		rs := RuleSource(name, e.o.Registry.Repo(name), e.o.PollInterval)
		spec := rs.Spec
		if err := createOrUpdate(ctx, c, rs, func() { rs.Spec = spec }); err != nil {
			return err
		}
	}
	policy := Policy(e.o.Pause)
	spec := policy.Spec
	if err := createOrUpdate(ctx, c, policy, func() { policy.Spec = spec }); err != nil {
		return err
	}
	for _, p := range Projects {
		if err := ensure(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "garden-" + p}}); err != nil {
			return err
		}
		if err := ensure(ctx, c, Project(p)); err != nil {
			return err
		}
	}
	if e.o.Shoots >= 2 {
		// A shoot on a version the profile no longer lists, as after a
		// profile change. The webhooks would refuse creating it, so it is
		// created before they are registered, as it was before the change.
		now := e.o.Clock.Now()
		removed := Sample{Project: Projects[len(Projects)-1], Name: "removed-version", Falco: RemovedVersion, AutoUpdate: true, Late: true,
			Begin: window(now.Add(-time.Hour)), End: window(now.Add(3 * time.Hour))}
		if err := ensure(ctx, c, removed.Object()); err != nil {
			return fmt.Errorf("sample shoot %s/%s: %w", removed.Namespace(), removed.Name, err)
		}
	}
	return e.writeOperatorConfig(pub)
}

// ensure creates obj unless it exists.
func ensure(ctx context.Context, c client.Client, obj client.Object) error {
	return client.IgnoreAlreadyExists(c.Create(ctx, obj))
}

// profile reads the state's copy of profiles/falco.yaml, made on the
// first run.
func (e *Env) profile() (*unstructured.Unstructured, error) {
	if _, err := os.Stat(e.ProfilePath()); errors.Is(err, os.ErrNotExist) {
		data, err := os.ReadFile(filepath.Join(e.o.Repo, "profiles", "falco.yaml"))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(e.ProfilePath(), data, 0o644); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(e.ProfilePath())
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		return nil, fmt.Errorf("%s: %w", e.ProfilePath(), err)
	}
	return u, nil
}

// versions are the profile's selectable Falco versions that are not
// preview, in order: the sample shoots' versions.
func versions(profile *unstructured.Unstructured) []string {
	list, _, _ := unstructured.NestedSlice(profile.Object, "spec", "versions", "falco")
	var out []string
	for _, v := range list {
		m, _ := v.(map[string]any)
		if m["classification"] == "preview" {
			continue
		}
		if s, ok := m["version"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// writeOperatorConfig writes the repository's operator configuration
// with the dev signing key: the controller and the extension both read it.
func (e *Env) writeOperatorConfig(pub []byte) error {
	data, err := os.ReadFile(filepath.Join(e.o.Repo, "config", "extension", "configuration.yaml"))
	if err != nil {
		return err
	}
	op, err := configv1alpha1.Decode(data)
	if err != nil {
		return err
	}
	op.Rules.CosignPublicKey = string(pub)
	op.Images.Agent = "falcops:dev"
	out, err := yaml.Marshal(op)
	if err != nil {
		return err
	}
	return os.WriteFile(e.path("configuration.yaml"), out, 0o644)
}

// freePort is a loopback port nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (e *Env) startController(ctx context.Context) error {
	kubeconfig := e.path("controller.kubeconfig")
	if err := e.garden.userKubeconfig("falcops-controller", kubeconfig); err != nil {
		return err
	}
	caBundle, err := webhookCerts(e.path("webhook"))
	if err != nil {
		return err
	}
	probe, err := freePort()
	if err != nil {
		return err
	}
	hook, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"--namespace", "falcops-system", "--metrics-bind-address", "0",
		"--health-probe-bind-address", "127.0.0.1:" + strconv.Itoa(probe),
		"--webhooks", "--webhook-host", "127.0.0.1", "--webhook-port", strconv.Itoa(hook), "--webhook-cert-dir", e.path("webhook"),
		"--dashboard-bind-address", e.o.DashboardAddr, "--operator-config", e.path("configuration.yaml"),
		"--poll-interval", e.o.PollInterval.String(), "--poll-jitter", "0"}
	e.progress("starting falcops-controller (log: %s)", e.path("logs", "falcops-controller.log"))
	c, err := startChild(filepath.Join(e.o.Bin, "falcops-controller"), e.o.State, e.o.Clock.Now(), []string{"KUBECONFIG=" + kubeconfig}, args)
	if err != nil {
		return err
	}
	e.children = append(e.children, c)
	if err := c.waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", probe), 2*time.Minute); err != nil {
		return err
	}
	return registerWebhooks(ctx, e.garden.Client, filepath.Join(e.o.Repo, "config", "webhook", "webhooks.yaml"), hook, caBundle)
}

func (e *Env) createShoots(ctx context.Context) error {
	profile, err := e.profile()
	if err != nil {
		return err
	}
	vs := versions(profile)
	if len(vs) == 0 {
		return fmt.Errorf("%s: no supported or deprecated Falco version for the sample shoots", e.ProfilePath())
	}
	now := e.o.Clock.Now()
	e.samples = Samples(max(e.o.Shoots-1, 1), vs, now)
	if err := e.waitForWebhooks(ctx, e.samples[0]); err != nil {
		return err
	}
	for _, s := range e.samples {
		if err := ensure(ctx, e.garden.Client, s.Object()); err != nil {
			return fmt.Errorf("sample shoot %s/%s: %w", s.Namespace(), s.Name, err)
		}
	}
	return nil
}

// waitForWebhooks waits until a dry-run create of sample comes back
// mutated: the API server picks up new webhook configurations a moment
// after they are written, the mutating and the validating one each on its
// own, and a shoot validated but not defaulted is refused.
func (e *Env) waitForWebhooks(ctx context.Context, sample Sample) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		u := sample.Object()
		u.SetName("webhook-probe")
		last = e.garden.Client.Create(ctx, u, client.DryRunAll)
		if last == nil {
			if pc, _ := providerConfig(u); pc != nil && strings.Contains(string(pc.Raw), `"rules"`) {
				return nil
			}
			last = errors.New("the shoot came back without the mutating webhook's defaults")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the admission webhooks do not answer yet (see %s): %w", e.path("logs", "falcops-controller.log"), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *Env) startExtension(ctx context.Context) error {
	kubeconfig := e.path("extension.kubeconfig")
	if err := e.seed.userKubeconfig("falcops-extension", kubeconfig); err != nil {
		return err
	}
	if err := ensure(ctx, e.seed.Client, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "falcops-system"}}); err != nil {
		return err
	}
	probe, err := freePort()
	if err != nil {
		return err
	}
	args := []string{"--config", e.path("configuration.yaml"), "--profiles", e.o.Registry.Repo("falco-profiles") + ":latest", "--plain-http",
		"--namespace", "falcops-system", "--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:" + strconv.Itoa(probe),
		"--health-interval", "10s"}
	e.progress("starting falcops-extension (log: %s)", e.path("logs", "falcops-extension.log"))
	c, err := startChild(filepath.Join(e.o.Bin, "falcops-extension"), e.o.State, e.o.Clock.Now(), []string{"KUBECONFIG=" + kubeconfig}, args)
	if err != nil {
		return err
	}
	e.children = append(e.children, c)
	return c.waitReady(ctx, fmt.Sprintf("http://127.0.0.1:%d/readyz", probe), 2*time.Minute)
}

// Run plays gardenlet and gardener-resource-manager until ctx ends. A
// failed sync is reported once per distinct error and retried.
func (e *Env) Run(ctx context.Context) error {
	shootKubeconfig, err := os.ReadFile(e.Kubeconfig("shoot"))
	if err != nil {
		return err
	}
	demo := Sample{Project: Projects[0], Name: DemoShoot}.SeedNamespace()
	g := &gardenlet{garden: e.garden.Client, seed: e.seed.Client, kubeconfigs: map[string][]byte{demo: shootKubeconfig}, synced: map[string]int64{}}
	grm := &resourceManager{seed: e.seed.Client, shoot: e.shoot.Client, namespace: demo, applied: map[string]string{}}
	var last string
	tick := time.NewTicker(SyncInterval)
	defer tick.Stop()
	for {
		err := errors.Join(g.sync(ctx), grm.sync(ctx))
		switch {
		case err != nil && ctx.Err() == nil && err.Error() != last:
			last = err.Error()
			e.progress("sync: %v (retrying)", err)
		case err == nil:
			last = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Stop stops the children in reverse order (the extension, then the
// controller), then the API servers.
func (e *Env) Stop() error {
	var errs []error
	for i := len(e.children) - 1; i >= 0; i-- {
		errs = append(errs, e.children[i].stop())
	}
	e.children = nil
	for _, c := range []*cluster{e.shoot, e.seed, e.garden} {
		if c != nil {
			errs = append(errs, c.stop())
		}
	}
	e.garden, e.seed, e.shoot = nil, nil, nil
	return errors.Join(errs...)
}
