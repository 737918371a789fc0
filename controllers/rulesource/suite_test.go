package rulesource

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/reconcile"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/rules"
)

const (
	testRuleset   = "falco-rules"
	testSecret    = "cosign-key"
	keyPassword   = "test password"
	waitTimeout   = 15 * time.Second
	waitTick      = 100 * time.Millisecond
	heartbeatRule = "heartbeat_rules.yaml"
)

// keyPair is a cosign key pair made for the tests.
type keyPair struct {
	pub  []byte
	sign oci.SignOptions
}

func newKeyPair(t *testing.T) keyPair {
	t.Helper()
	priv, pub, err := oci.GenerateKeyPair(t.TempDir(), []byte(keyPassword))
	require.NoError(t, err)
	signer, err := oci.LoadSigner(context.Background(), priv, func() ([]byte, error) { return []byte(keyPassword), nil })
	require.NoError(t, err)
	pem, err := os.ReadFile(pub)
	require.NoError(t, err)
	return keyPair{pub: pem, sign: oci.SignOptions{Signer: signer}}
}

// suite is one envtest API server and the keys, shared by the subtests.
type suite struct {
	env        *testenv.Env
	key, other keyPair
}

// fixture is one subtest's world: its own registry, namespace (for the key
// Secret) and manager running the Reconciler.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	s      *suite
	reg    *ocitest.Registry
	repo   string
	pub    *oci.Client
	ns     string
	events *recordingRecorder
}

type fixtureOptions struct {
	// noSecret: do not create the key Secret.
	noSecret bool
	// user and password make the registry private (basic auth).
	user, password string
	// wrap, if set, wraps the registry handler (hostile registries).
	wrap func(http.Handler) http.Handler
	// registryTimeout is the Reconciler's RegistryTimeout (0: default).
	registryTimeout time.Duration
}

func newFixture(t *testing.T, s *suite, opts fixtureOptions) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	f := &fixture{t: t, ctx: ctx, s: s, reg: ocitest.NewWith(t, ocitest.Options{AllowDelete: true, User: opts.user, Password: opts.password, Wrap: opts.wrap})}
	f.repo = f.reg.Host + "/falcops/" + testRuleset
	var err error
	pubOpts := oci.Options{PlainHTTP: true, DockerConfig: filepath.Join(t.TempDir(), "config.json")}
	if opts.user != "" {
		pubOpts.Credential, err = oci.DockerConfigCredential(dockerConfig(f.reg.Host, opts.user, opts.password))
		require.NoError(t, err)
	}
	f.pub, err = oci.New(pubOpts)
	require.NoError(t, err)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rulesource-"}}
	require.NoError(t, s.env.Client.Create(ctx, ns))
	f.ns = ns.Name
	if !opts.noSecret {
		f.setSecret(map[string][]byte{DefaultKey: s.key.pub})
	}

	s.env.StartManager(t, ctrl.Options{Cache: scheme.Cache(f.ns, labels.Everything())}, func(mgr ctrl.Manager) error {
		f.events = &recordingRecorder{EventRecorder: mgr.GetEventRecorder(EventSource)}
		r := &Reconciler{
			SecretNamespace: f.ns,
			Recorder:        f.events,
			Jitter:          func(d time.Duration) time.Duration { return d },
			RegistryTimeout: opts.registryTimeout,
		}
		return r.SetupWithManager(context.Background(), mgr, controller.Options{MaxConcurrentReconciles: 2})
	})
	return f
}

// setSecret creates or replaces the key Secret's data.
func (f *fixture) setSecret(data map[string][]byte) {
	f.t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: testSecret, Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}}}
	err := f.s.env.Client.Get(f.ctx, client.ObjectKeyFromObject(sec), sec)
	switch {
	case apierrors.IsNotFound(err):
		sec.Data = data
		require.NoError(f.t, f.s.env.Client.Create(f.ctx, sec))
	case err == nil:
		sec.Data = data
		require.NoError(f.t, f.s.env.Client.Update(f.ctx, sec))
	default:
		require.NoError(f.t, err)
	}
}

// publishOptions say how a test release is signed.
type publishOptions struct {
	// key signs the digest before the floating tags move (nil: unsigned).
	key *keyPair
	// beforeTags runs after the version tag is pushed (and signed) and
	// before the floating tags move to it.
	beforeTags func(d digest.Digest)
}

// publish releases the test ruleset as version with the engine
// requirement, as falcops publish does but signing before the floating
// tags (X.Y, X, latest) move, so the controller never sees the floating
// tags on an unsigned digest unless the test wants that. variant changes
// the content.
func (f *fixture) publish(version, engine, variant string, opts publishOptions) digest.Digest {
	f.t.Helper()
	return f.release(packageRuleset(f.t, version, engine, variant), version, opts)
}

// release pushes artifact a as version and moves the floating tags to it.
// It is not publish.Artifact on purpose: the tests sign with other keys or
// not at all, and look at the registry between the push and the tags.
func (f *fixture) release(a *artifacts.Artifact, version string, opts publishOptions) digest.Digest {
	f.t.Helper()
	existing, err := f.pub.Tags(f.ctx, f.repo)
	if err != nil && !errors.Is(err, oci.ErrNotFound) {
		require.NoError(f.t, err)
	}
	tags, err := artifacts.Tags(version, existing)
	require.NoError(f.t, err)
	_, err = f.pub.Push(f.ctx, f.repo, a, version)
	require.NoError(f.t, err)
	if opts.key != nil {
		f.sign(a.ManifestDigest, *opts.key)
	}
	if opts.beforeTags != nil {
		opts.beforeTags(a.ManifestDigest)
	}
	for _, tag := range tags {
		if tag != version {
			require.NoError(f.t, f.pub.Tag(f.ctx, f.repo, a.ManifestDigest, tag))
		}
	}
	return a.ManifestDigest
}

func (f *fixture) sign(d digest.Digest, k keyPair) {
	f.t.Helper()
	require.NoError(f.t, f.pub.Sign(f.ctx, f.repo+"@"+d.String(), k.sign))
}

// packageRuleset builds a copy of the shipped heartbeat ruleset named
// falco-rules with the given version and engine requirement.
func packageRuleset(t *testing.T, version, engine, variant string) *artifacts.Artifact {
	t.Helper()
	manifest := fmt.Sprintf("name: %s\nversion: %s\nfiles:\n  - %s\nrequires:\n  engine: %s\n", testRuleset, version, heartbeatRule, engine)
	data, err := os.ReadFile(filepath.Join(sharedtest.RepoRoot(t), "rulesets", "heartbeat", heartbeatRule))
	require.NoError(t, err)
	dir := sharedtest.WriteFiles(t, filepath.Join(t.TempDir(), testRuleset), map[string]string{
		rules.ManifestFile: manifest,
		heartbeatRule:      string(data) + "\n# variant " + version + " " + variant + "\n",
	})
	return ocitest.Package(t, dir, artifacts.PackageOptions{})
}

type ruleSourceOptions struct {
	follow   string
	interval time.Duration
	history  int32
	// edit, if set, changes the spec before it is created.
	edit func(*falcopsv1alpha1.RuleSourceSpec)
}

// dockerConfig is a .dockerconfigjson with credentials for host.
func dockerConfig(host, user, password string) []byte {
	return []byte(`{"auths":{"` + host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte(user+":"+password)) + `"}}}`)
}

// createRuleSource creates a RuleSource with a unique name and deletes it
// when the test ends.
func (f *fixture) createRuleSource(opts ruleSourceOptions) string {
	f.t.Helper()
	rs := &falcopsv1alpha1.RuleSource{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"},
		Spec: falcopsv1alpha1.RuleSourceSpec{
			Ruleset:    testRuleset,
			Repository: f.repo,
			Follow:     opts.follow,
			Interval:   &metav1.Duration{Duration: opts.interval},
			Insecure:   true,
			Verify:     falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: testSecret}},
		},
	}
	if opts.history > 0 {
		rs.Spec.History = ptr.To(opts.history)
	}
	if opts.edit != nil {
		opts.edit(&rs.Spec)
	}
	require.NoError(f.t, f.s.env.Client.Create(f.ctx, rs))
	f.t.Cleanup(func() {
		_ = f.s.env.Client.Delete(context.Background(), rs)
	})
	return rs.Name
}

func (f *fixture) get(name string) (*falcopsv1alpha1.RuleSource, error) {
	rs := &falcopsv1alpha1.RuleSource{}
	err := f.s.env.Client.Get(f.ctx, client.ObjectKey{Name: name}, rs)
	return rs, err
}

// eventually waits until check passes on the RuleSource and returns the
// RuleSource it passed on.
func (f *fixture) eventually(name string, within time.Duration, check func(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource)) *falcopsv1alpha1.RuleSource {
	f.t.Helper()
	var last *falcopsv1alpha1.RuleSource
	require.EventuallyWithT(f.t, func(c *assert.CollectT) {
		rs, err := f.get(name)
		if !assert.NoError(c, err) {
			return
		}
		last = rs
		check(c, rs)
	}, within, waitTick)
	return last
}

// never samples the RuleSource until the test ends and fails the test if
// status.versions or status.latest ever holds a digest forbidden(d) says
// must not be there.
func (f *fixture) never(name string, forbidden func(d string) bool) {
	f.t.Helper()
	stop := make(chan struct{})
	done := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			rs, err := f.get(name)
			if err != nil {
				continue
			}
			var ds []string
			for _, v := range rs.Status.Versions {
				ds = append(ds, v.Digest)
			}
			if rs.Status.Latest != nil {
				ds = append(ds, rs.Status.Latest.Digest)
			}
			for _, d := range ds {
				if forbidden(d) {
					mu.Lock()
					seen = append(seen, d)
					mu.Unlock()
				}
			}
		}
	}()
	f.t.Cleanup(func() {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(f.t, seen, "refused digests were listed in status")
	})
}

// condition asserts condition typ's status and reason.
func condition(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource, typ string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	got := reconcile.GetCondition(rs, typ)
	if !assert.NotNil(c, got, "condition %s", typ) {
		return nil
	}
	assert.Equal(c, status, got.Status, "condition %s: %s", typ, got.Message)
	assert.Equal(c, reason, got.Reason, "condition %s reason: %s", typ, got.Message)
	return got
}

// ready asserts the kstatus trio and both domain conditions of a healthy
// RuleSource.
func ready(c *assert.CollectT, rs *falcopsv1alpha1.RuleSource) {
	condition(c, rs, falcopsv1alpha1.ReadyCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonSucceeded)
	condition(c, rs, falcopsv1alpha1.ResolvedCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonDigestResolved)
	condition(c, rs, falcopsv1alpha1.VerifiedCondition, metav1.ConditionTrue, falcopsv1alpha1.ReasonSignatureVerified)
	assert.Nil(c, reconcile.GetCondition(rs, falcopsv1alpha1.StalledCondition), "Stalled")
	assert.Nil(c, reconcile.GetCondition(rs, falcopsv1alpha1.ReconcilingCondition), "Reconciling")
	assert.Equal(c, rs.Generation, rs.Status.ObservedGeneration, "observedGeneration")
}

// versionsOf is version@digest of each listed version.
func versionsOf(rs *falcopsv1alpha1.RuleSource) []string {
	var out []string
	for _, v := range rs.Status.Versions {
		out = append(out, v.Version+"@"+v.Digest)
	}
	return out
}

func vd(version string, d digest.Digest) string { return version + "@" + d.String() }

// recordingRecorder keeps the events the controller emits (and forwards
// them to the API server).
type recordingRecorder struct {
	events.EventRecorder
	mu   sync.Mutex
	list []recorded
}

type recorded struct {
	name, typ, reason, note string
}

func (r *recordingRecorder) Eventf(regarding, related runtime.Object, typ, reason, action, note string, args ...any) {
	name := ""
	if o, ok := regarding.(client.Object); ok {
		name = o.GetName()
	}
	r.mu.Lock()
	r.list = append(r.list, recorded{name: name, typ: typ, reason: reason, note: fmt.Sprintf(note, args...)})
	r.mu.Unlock()
	r.EventRecorder.Eventf(regarding, related, typ, reason, action, note, args...)
}

// count is how many events of reason for RuleSource name have a note
// containing substr.
func (r *recordingRecorder) count(name, reason, substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(slices.DeleteFunc(slices.Clone(r.list), func(e recorded) bool {
		return e.name != name || e.reason != reason || !strings.Contains(e.note, substr)
	}))
}
