package extension_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	resourcesv1alpha1 "github.com/gardener/gardener/pkg/apis/resources/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/falcops/falcops/agent/agenttest"
	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/publish"
)

const ns = "shoot--garden-p--prod"

// seed starts a kube-apiserver with Gardener's own CRDs.
func seed(t testing.TB) *testenv.Env { return testenv.Seed(t, extension.Scheme()) }

// landscape publishes the rulesets and the profiles, signed, to the
// in-process registry and returns the registry source the extension uses.
func landscape(t *testing.T) (*agenttest.Landscape, *extension.Registry, *configv1alpha1.Configuration) {
	l := agenttest.New(t, "heartbeat", "custom-example")
	files, err := publish.ReadProfiles(filepath.Join(sharedtest.RepoRoot(t), "profiles"))
	require.NoError(t, err)
	_, _, err = publish.Profiles(context.Background(), files, "test", "0", l.Opts)
	require.NoError(t, err)
	key, err := os.ReadFile(l.Pub)
	require.NoError(t, err)
	op := &configv1alpha1.Configuration{Images: configv1alpha1.Images{Agent: "falcops:test"},
		Rules: configv1alpha1.Rules{CosignPublicKey: string(key), Implies: map[string][]string{"falco-rules": {"custom-example"}}}}
	configv1alpha1.Default(op)
	require.NoError(t, configv1alpha1.Validate(op))
	reg := &extension.Registry{Client: l.Opts.Client, Profiles: l.Opts.Registry.Repo("falco-profiles") + ":latest", PublicKey: key}
	return l, reg, op
}

func pin(l *agenttest.Landscape, name, version, digest string) servicev1alpha1.PinnedRuleset {
	return servicev1alpha1.PinnedRuleset{Name: name, Version: version, Ref: l.Opts.Registry.Repo(name) + "@" + digest}
}

func providerConfig(t testing.TB, custom bool, pins ...servicev1alpha1.PinnedRuleset) *runtime.RawExtension {
	version, yes := "0.42.1", true
	cfg := &servicev1alpha1.FalcoServiceConfig{APIVersion: servicev1alpha1.SchemeGroupVersion.String(), Kind: servicev1alpha1.Kind,
		FalcoVersion: &version, HeartbeatEvent: &yes, Rules: &servicev1alpha1.Rules{StandardRules: &[]string{"falco-rules"}, Pinned: pins}}
	if custom {
		cfg.Rules.CustomRules = &[]servicev1alpha1.CustomRule{{ResourceName: "team-rules"}}
	}
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	return &runtime.RawExtension{Raw: data}
}

func shootJSON(t testing.TB, hibernated bool) []byte {
	shoot := map[string]any{"apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot",
		"metadata": map[string]any{"name": "prod", "namespace": "garden-p"},
		"spec": map[string]any{
			"hibernation": map[string]any{"enabled": hibernated},
			"extensions":  []any{map[string]any{"type": servicev1alpha1.Type}},
			"resources":   []any{map[string]any{"name": "team-rules", "resourceRef": map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "team-rules"}}},
		}}
	data, err := json.Marshal(shoot)
	require.NoError(t, err)
	return data
}

// managed decodes the manifests of the ManagedResource name.
func managed(t *testing.T, seedC client.Client, name string) []*unstructured.Unstructured {
	mr := &resourcesv1alpha1.ManagedResource{}
	require.NoError(t, seedC.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, mr))
	require.Len(t, mr.Spec.SecretRefs, 1)
	s := &corev1.Secret{}
	require.NoError(t, seedC.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: mr.Spec.SecretRefs[0].Name}, s))
	assert.True(t, s.Immutable != nil && *s.Immutable)
	manifests, err := extension.Decompress(s.Data[resourcesv1alpha1.CompressedDataKey])
	require.NoError(t, err)
	var out []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	return out
}

// apply creates or updates the shoot ManagedResource's objects in the
// shoot, as gardener-resource-manager would.
func apply(t *testing.T, seedC, shootC client.Client) map[string]*unstructured.Unstructured {
	ctx := context.Background()
	out := map[string]*unstructured.Unstructured{}
	for _, u := range managed(t, seedC, extension.ShootManagedResource) {
		out[u.GetKind()+"/"+u.GetName()] = u
		cur := u.DeepCopy()
		err := shootC.Get(ctx, client.ObjectKeyFromObject(u), cur)
		switch {
		case apierrors.IsNotFound(err):
			require.NoError(t, shootC.Create(ctx, u.DeepCopy()))
		default:
			require.NoError(t, err)
			u.SetResourceVersion(cur.GetResourceVersion())
			require.NoError(t, shootC.Update(ctx, u.DeepCopy()))
		}
	}
	return out
}

func lastOp(t *testing.T, c client.Client) *extensionsv1alpha1.Extension {
	ext := &extensionsv1alpha1.Extension{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shoot-falco-service"}, ext))
	return ext
}

func waitFor(t *testing.T, c client.Client, what string, ok func(*extensionsv1alpha1.Extension) bool) *extensionsv1alpha1.Extension {
	t.Helper()
	var last *extensionsv1alpha1.Extension
	if !assert.Eventually(t, func() bool { last = lastOp(t, c); return ok(last) }, 30*time.Second, 50*time.Millisecond, what) {
		t.Fatalf("%s: last status %+v, conditions %+v", what, last.Status.LastOperation, last.Status.Conditions)
	}
	return last
}

func annotate(t *testing.T, c client.Client, op string) {
	ext := lastOp(t, c)
	patch := client.MergeFrom(ext.DeepCopy())
	if ext.Annotations == nil {
		ext.Annotations = map[string]string{}
	}
	ext.Annotations["gardener.cloud/operation"] = op
	require.NoError(t, c.Patch(context.Background(), ext, patch))
}

func succeeded(kind gardencorev1beta1.LastOperationType, after time.Time) func(*extensionsv1alpha1.Extension) bool {
	return func(e *extensionsv1alpha1.Extension) bool {
		lo := e.Status.LastOperation
		return lo != nil && lo.Type == kind && lo.State == gardencorev1beta1.LastOperationStateSucceeded &&
			!lo.LastUpdateTime.Time.Before(after.Truncate(time.Second)) && e.Status.ObservedGeneration == e.Generation
	}
}

// TestExtensionLifecycle drives one Extension through create, pin change,
// broken custom rules, health, hibernation, migrate, restore and delete on
// a seed API server, applying the ManagedResource to a second API server
// standing for the shoot.
func TestExtensionLifecycle(t *testing.T) {
	ctx := context.Background()
	l, reg, op := landscape(t)
	seedEnv, shootEnv := seed(t), testenv.Start(t)
	sc := seedEnv.Client
	health := &extension.Health{ShootClient: func(context.Context, string) (client.Client, error) { return shootEnv.Client, nil }}
	op.Rules.CredentialsSecret = "registry-login"
	require.NoError(t, sc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "falcops-system"}}))
	require.NoError(t, sc.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "registry-login", Namespace: "falcops-system"},
		Data: map[string][]byte{"username": []byte("robot"), "password": []byte("s3cret")}}))
	seedEnv.StartManager(t, ctrl.Options{}, func(mgr ctrl.Manager) error {
		return (&extension.Reconciler{Client: mgr.GetClient(), Operator: op, Sources: reg, Health: health, HealthInterval: 200 * time.Millisecond,
			Namespace: "falcops-system"}).SetupWithManager(mgr, controller.Options{})
	})
	require.NoError(t, sc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	cluster := &extensionsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: extensionsv1alpha1.ClusterSpec{
		CloudProfile: runtime.RawExtension{Raw: []byte("{}")}, Shoot: runtime.RawExtension{Raw: shootJSON(t, false)}}}
	require.NoError(t, sc.Create(ctx, cluster))

	// Create.
	start := time.Now()
	pins := []servicev1alpha1.PinnedRuleset{pin(l, "custom-example", "0.1.0", l.Digests["custom-example"]), pin(l, "heartbeat", "2.0.0", l.Digests["heartbeat"])}
	ext := &extensionsv1alpha1.Extension{ObjectMeta: metav1.ObjectMeta{Name: "shoot-falco-service", Namespace: ns},
		Spec: extensionsv1alpha1.ExtensionSpec{DefaultSpec: extensionsv1alpha1.DefaultSpec{Type: servicev1alpha1.Type, ProviderConfig: providerConfig(t, false, pins...)}}}
	require.NoError(t, sc.Create(ctx, ext))
	ext = waitFor(t, sc, "created", succeeded(gardencorev1beta1.LastOperationTypeCreate, start))
	assert.Contains(t, ext.Finalizers, extension.Finalizer)
	objs := apply(t, sc, shootEnv.Client)
	require.Contains(t, objs, "DaemonSet/falco")
	require.Contains(t, objs, "Secret/falcoctl")
	template, _, _ := unstructured.NestedMap(objs["DaemonSet/falco"].Object, "spec", "template")
	cfgB64, _, _ := unstructured.NestedString(objs["Secret/falcoctl"].Object, "data", "falcoctl.yaml")
	falcoctlYAML, err := base64.StdEncoding.DecodeString(cfgB64)
	require.NoError(t, err)
	assert.Contains(t, string(falcoctlYAML), "user: robot", "the operator's registry login reaches falcoctl")
	falcoctl := objs["Secret/falcoctl"].Object["data"]

	// Pin change: the Secret changes, the pod template stays byte for byte.
	v2 := l.PublishVariant(t, "heartbeat", "2.0.1")
	start = time.Now()
	ext = lastOp(t, sc)
	patch := client.MergeFrom(ext.DeepCopy())
	ext.Spec.ProviderConfig = providerConfig(t, false, pins[0], pin(l, "heartbeat", "2.0.1", v2))
	require.NoError(t, sc.Patch(ctx, ext, patch))
	waitFor(t, sc, "pin change", succeeded(gardencorev1beta1.LastOperationTypeReconcile, start))
	objs = apply(t, sc, shootEnv.Client)
	after, _, _ := unstructured.NestedMap(objs["DaemonSet/falco"].Object, "spec", "template")
	a, _ := json.Marshal(template)
	b, _ := json.Marshal(after)
	assert.Equal(t, string(a), string(b), "a pin change leaves the pod template as it is")
	assert.NotEqual(t, falcoctl, objs["Secret/falcoctl"].Object["data"])
	secrets := &corev1.SecretList{}
	require.NoError(t, sc.List(ctx, secrets, client.InNamespace(ns)))
	var names []string
	for _, s := range secrets.Items {
		names = append(names, s.Name)
	}
	assert.Len(t, names, 3, "the previous data Secret is removed; the certificates and the seed objects' data stay: %v", names)
	assert.Contains(t, names, extension.CertificatesSecret)
	require.Contains(t, objs, "Deployment/falcosidekick", "logging (the default destination) deploys falcosidekick")
	require.Contains(t, objs, "Secret/falco-certs")

	// Health: not all pods ready, then an agent that refuses its pins.
	ds := &appsv1.DaemonSet{}
	require.NoError(t, shootEnv.Client.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "falco"}, ds))
	ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: 2, UpdatedNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 1}
	require.NoError(t, shootEnv.Client.Status().Update(ctx, ds))
	waitFor(t, sc, "health says not ready", condition("False", "DaemonSetUnhealthy", "1 of 2 pods ready"))
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "falco-abc", Namespace: "kube-system", Labels: ds.Spec.Selector.MatchLabels},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "falco", Image: "falco"}, {Name: "falcops-agent", Image: "agent"}}}}
	require.NoError(t, shootEnv.Client.Create(ctx, pod))
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "falco", Ready: true}, {Name: "falcops-agent", Ready: false}}
	require.NoError(t, shootEnv.Client.Status().Update(ctx, pod))
	waitFor(t, sc, "health names the refusing agent", condition("False", "RulesRefused", "falco-abc on node-1"))
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "falco", Ready: false, LastTerminationState: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "Loading rules\nError: /etc/falco/rules/shoot.d/x.yaml: LOAD_ERR_COMPILE_CONDITION: undefined macro"}}},
		{Name: "falcops-agent", Ready: true}}
	require.NoError(t, shootEnv.Client.Status().Update(ctx, pod))
	waitFor(t, sc, "health names Falco's own rules error", condition("False", "FalcoRulesMisconfigured", "Falco rules misconfigured: Error: /etc/falco/rules/shoot.d/x.yaml"))
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "falco", Ready: false}, {Name: "falcops-agent", Ready: true}}
	require.NoError(t, shootEnv.Client.Status().Update(ctx, pod))
	require.NoError(t, shootEnv.Client.Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "falco-abc.mount", Namespace: "kube-system"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "falco-abc", Namespace: "kube-system"}, Reason: "FailedMount",
		Message: `MountVolume.SetUp failed for volume "config": configmap "falco" not found`, Type: "Warning"}))
	waitFor(t, sc, "health names the mount error", condition("False", "FalcoConfigMapMountError", `configmap "falco" not found`))

	// Broken custom rules: Error naming configmap/file:line:col; the
	// ManagedResource stays as it was.
	mrBefore := managedSecret(t, sc)
	require.NoError(t, sc.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ref-team-rules", Namespace: ns},
		Data: map[string]string{"a_rules.yaml": "- rule: Team shell\n  desc: x\n  condition: proc.name = bash and\n  output: x\n  priority: WARNING\n"}}))
	ext = lastOp(t, sc)
	patch = client.MergeFrom(ext.DeepCopy())
	ext.Spec.ProviderConfig = providerConfig(t, true, pins[0], pin(l, "heartbeat", "2.0.1", v2))
	require.NoError(t, sc.Patch(ctx, ext, patch))
	ext = waitFor(t, sc, "broken custom rules", func(e *extensionsv1alpha1.Extension) bool {
		return e.Status.LastOperation != nil && e.Status.LastOperation.State == gardencorev1beta1.LastOperationStateError
	})
	assert.Contains(t, ext.Status.LastOperation.Description, "team-rules/a_rules.yaml:3:34: error: expected blank")
	require.NotNil(t, ext.Status.LastError)
	assert.Equal(t, mrBefore, managedSecret(t, sc), "the previous objects are untouched")

	// Hibernation: nothing changes.
	ext = lastOp(t, sc)
	patch = client.MergeFrom(ext.DeepCopy())
	ext.Spec.ProviderConfig = providerConfig(t, false, pins[0], pin(l, "heartbeat", "2.0.1", v2))
	require.NoError(t, sc.Patch(ctx, ext, patch))
	waitFor(t, sc, "fixed", succeeded(gardencorev1beta1.LastOperationTypeReconcile, time.Now().Add(-time.Second)))
	mrBefore = managedSecret(t, sc)
	require.NoError(t, sc.Get(ctx, client.ObjectKeyFromObject(cluster), cluster))
	cluster.Spec.Shoot.Raw = shootJSON(t, true)
	require.NoError(t, sc.Update(ctx, cluster))
	ext = lastOp(t, sc)
	patch = client.MergeFrom(ext.DeepCopy())
	ext.Spec.ProviderConfig = providerConfig(t, false, pins...)
	require.NoError(t, sc.Patch(ctx, ext, patch))
	waitFor(t, sc, "hibernated", func(e *extensionsv1alpha1.Extension) bool {
		return e.Status.LastOperation != nil && strings.Contains(e.Status.LastOperation.Description, "hibernated") && e.Status.ObservedGeneration == e.Generation
	})
	assert.Equal(t, mrBefore, managedSecret(t, sc), "a hibernated shoot keeps its objects as they were")
	require.NoError(t, sc.Get(ctx, client.ObjectKeyFromObject(cluster), cluster))
	cluster.Spec.Shoot.Raw = shootJSON(t, false)
	require.NoError(t, sc.Update(ctx, cluster))

	// Migrate: the ManagedResource goes (its objects are kept in the shoot).
	start = time.Now()
	annotate(t, sc, "migrate")
	// The operation annotation goes in a patch of its own, after the status.
	waitFor(t, sc, "migrated", func(e *extensionsv1alpha1.Extension) bool {
		return succeeded(gardencorev1beta1.LastOperationTypeMigrate, start)(e) && e.Annotations["gardener.cloud/operation"] == ""
	})
	err = sc.Get(ctx, client.ObjectKey{Namespace: ns, Name: extension.ShootManagedResource}, &resourcesv1alpha1.ManagedResource{})
	assert.True(t, apierrors.IsNotFound(err), "managedresource after migrate: %v", err)

	// Restore: it is back.
	start = time.Now()
	annotate(t, sc, "restore")
	// The operation annotation goes in a patch of its own, after the status.
	waitFor(t, sc, "restored", func(e *extensionsv1alpha1.Extension) bool {
		return succeeded(gardencorev1beta1.LastOperationTypeRestore, start)(e) && e.Annotations["gardener.cloud/operation"] == ""
	})
	assert.NotEmpty(t, managedSecret(t, sc))

	// Delete: everything goes, then the finalizer.
	require.NoError(t, sc.Delete(ctx, lastOp(t, sc)))
	require.Eventually(t, func() bool {
		err := sc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shoot-falco-service"}, &extensionsv1alpha1.Extension{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 50*time.Millisecond, "the finalizer is removed")
	require.NoError(t, sc.List(ctx, secrets, client.InNamespace(ns)))
	assert.Empty(t, secrets.Items)
}

func condition(status, reason, message string) func(*extensionsv1alpha1.Extension) bool {
	return func(e *extensionsv1alpha1.Extension) bool {
		for _, c := range e.Status.Conditions {
			if c.Type == extension.ConditionSystemComponentsHealthy {
				return string(c.Status) == status && c.Reason == reason && strings.Contains(c.Message, message)
			}
		}
		return false
	}
}

func managedSecret(t *testing.T, c client.Client) string {
	mr := &resourcesv1alpha1.ManagedResource{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: extension.ShootManagedResource}, mr))
	require.Len(t, mr.Spec.SecretRefs, 1)
	return mr.Spec.SecretRefs[0].Name
}

// TestTamperedProfilesRefused: a falco-profiles artifact not signed with
// the landscape's key is refused.
func TestTamperedProfilesRefused(t *testing.T) {
	_, reg, op := landscape(t)
	_, err := reg.Profile(context.Background())
	require.NoError(t, err)
	other, _, _ := landscape(t)
	otherKey, err := os.ReadFile(other.Pub)
	require.NoError(t, err)
	bad := &extension.Registry{Client: reg.Client, Profiles: reg.Profiles, PublicKey: otherKey}
	_, err = bad.Profile(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "falco-profiles")

	// The actuator with that key: the Extension says why, nothing is deployed.
	ctx := context.Background()
	sc := seed(t).Client
	require.NoError(t, sc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	require.NoError(t, sc.Create(ctx, &extensionsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: extensionsv1alpha1.ClusterSpec{
		CloudProfile: runtime.RawExtension{Raw: []byte("{}")}, Shoot: runtime.RawExtension{Raw: shootJSON(t, false)}}}))
	require.NoError(t, sc.Create(ctx, &extensionsv1alpha1.Extension{ObjectMeta: metav1.ObjectMeta{Name: "shoot-falco-service", Namespace: ns},
		Spec: extensionsv1alpha1.ExtensionSpec{DefaultSpec: extensionsv1alpha1.DefaultSpec{Type: servicev1alpha1.Type, ProviderConfig: providerConfig(t, false)}}}))
	r := &extension.Reconciler{Client: sc, Operator: op, Sources: bad}
	_, err = r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "shoot-falco-service"}})
	require.Error(t, err, "a registry or signature error is retried")
	ext := lastOp(t, sc)
	require.NotNil(t, ext.Status.LastOperation)
	assert.Equal(t, gardencorev1beta1.LastOperationStateError, ext.Status.LastOperation.State)
	assert.Contains(t, ext.Status.LastOperation.Description, "falco-profiles")
	err = sc.Get(ctx, client.ObjectKey{Namespace: ns, Name: extension.ShootManagedResource}, &resourcesv1alpha1.ManagedResource{})
	assert.True(t, apierrors.IsNotFound(err), "nothing deployed: %v", err)
}

// TestAdoptsGardenersManagedResource: a shoot that Gardener's extension
// served has its ManagedResource under the same name; the actuator takes
// it over (same object, now pointing at falcops' data) instead of adding a
// second one that would fight over the same shoot objects.
func TestAdoptsGardenersManagedResource(t *testing.T) {
	ctx := context.Background()
	l, reg, op := landscape(t)
	sc := seed(t).Client
	require.NoError(t, sc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	require.NoError(t, sc.Create(ctx, &extensionsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: extensionsv1alpha1.ClusterSpec{
		CloudProfile: runtime.RawExtension{Raw: []byte("{}")}, Shoot: runtime.RawExtension{Raw: shootJSON(t, false)}}}))
	gardeners := &resourcesv1alpha1.ManagedResource{ObjectMeta: metav1.ObjectMeta{Name: extension.ShootManagedResource, Namespace: ns,
		Labels: map[string]string{"origin": "extension-shoot-falco-service"}},
		Spec: resourcesv1alpha1.ManagedResourceSpec{SecretRefs: []corev1.LocalObjectReference{{Name: "managedresource-extension-shoot-falco-service-shoot-0a1b2c3d"}}}}
	require.NoError(t, sc.Create(ctx, gardeners))
	pins := []servicev1alpha1.PinnedRuleset{pin(l, "custom-example", "0.1.0", l.Digests["custom-example"]), pin(l, "heartbeat", "2.0.0", l.Digests["heartbeat"])}
	require.NoError(t, sc.Create(ctx, &extensionsv1alpha1.Extension{ObjectMeta: metav1.ObjectMeta{Name: "shoot-falco-service", Namespace: ns},
		Spec: extensionsv1alpha1.ExtensionSpec{DefaultSpec: extensionsv1alpha1.DefaultSpec{Type: servicev1alpha1.Type, ProviderConfig: providerConfig(t, false, pins...)}}}))
	r := &extension.Reconciler{Client: sc, Operator: op, Sources: reg}
	_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "shoot-falco-service"}})
	require.NoError(t, err)
	var mrs resourcesv1alpha1.ManagedResourceList
	require.NoError(t, sc.List(ctx, &mrs, client.InNamespace(ns)))
	mrs.Items = slices.DeleteFunc(mrs.Items, func(mr resourcesv1alpha1.ManagedResource) bool { return mr.Name == extension.SeedManagedResource })
	require.Len(t, mrs.Items, 1, "adopted, not duplicated")
	assert.Equal(t, gardeners.UID, mrs.Items[0].UID)
	require.Len(t, mrs.Items[0].Spec.SecretRefs, 1)
	assert.NotEqual(t, "managedresource-extension-shoot-falco-service-shoot-0a1b2c3d", mrs.Items[0].Spec.SecretRefs[0].Name)
	assert.Contains(t, string(decompressedOf(t, sc, mrs.Items[0].Spec.SecretRefs[0].Name)), "name: falco\n")
}

func decompressedOf(t *testing.T, c client.Client, secret string) []byte {
	s := &corev1.Secret{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: secret}, s))
	data, err := extension.Decompress(s.Data[resourcesv1alpha1.CompressedDataKey])
	require.NoError(t, err)
	return data
}
