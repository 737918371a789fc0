package extension_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	resourcesv1alpha1 "github.com/gardener/gardener/pkg/apis/resources/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/lifecycle"
)

// staticSources serves the shipped profile and rulesets from disk: the
// benchmark measures rendering and writes, not the registry.
type staticSources struct {
	profile *lifecycle.Profile
	files   map[string]map[string][]byte
}

func (s staticSources) Profile(context.Context) (*lifecycle.Profile, error) { return s.profile, nil }
func (s staticSources) Files(_ context.Context, pins []servicev1alpha1.PinnedRuleset) (map[string]map[string][]byte, error) {
	out := map[string]map[string][]byte{}
	for _, p := range pins {
		out[p.Name] = s.files[p.Name]
	}
	return out, nil
}

func benchExtensions() int {
	if n, err := strconv.Atoi(os.Getenv("FALCOPS_BENCH_EXTENSIONS")); err == nil && n > 0 {
		return n
	}
	return 2000
}

// benchLandscape starts a seed with n shoot namespaces, each with its
// Cluster and Extension.
func benchLandscape(b *testing.B, n int) (client.Client, staticSources, *configv1alpha1.Configuration) {
	env := seed(b)
	ctx := context.Background()
	root := sharedtest.RepoRoot(b)
	prof, err := lifecycle.Load(filepath.Join(root, "profiles", "falco.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	files := map[string]map[string][]byte{}
	for _, r := range []string{"heartbeat", "custom-example"} {
		files[r] = map[string][]byte{}
		entries, _ := os.ReadDir(filepath.Join(root, "rulesets", r))
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".yaml") && e.Name() != "ruleset.yaml" {
				data, _ := os.ReadFile(filepath.Join(root, "rulesets", r, e.Name()))
				files[r][e.Name()] = data
			}
		}
	}
	op := &configv1alpha1.Configuration{Images: configv1alpha1.Images{Agent: "falcops:bench"},
		Rules: configv1alpha1.Rules{CosignPublicKey: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n", Implies: map[string][]string{"falco-rules": {"custom-example"}}}}
	configv1alpha1.Default(op)
	pins := []servicev1alpha1.PinnedRuleset{
		{Name: "custom-example", Version: "0.1.0", Ref: "registry.example/falcops/custom-example@sha256:" + strings.Repeat("1", 64)},
		{Name: "heartbeat", Version: "2.0.0", Ref: "registry.example/falcops/heartbeat@sha256:" + strings.Repeat("2", 64)},
	}
	for i := range n {
		name := fmt.Sprintf("shoot--p--s%04d", i)
		must(b, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
		must(b, env.Client.Create(ctx, &extensionsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: extensionsv1alpha1.ClusterSpec{
			CloudProfile: k8sruntime.RawExtension{Raw: []byte("{}")}, Shoot: k8sruntime.RawExtension{Raw: shootJSON(b, false)}}}))
		must(b, env.Client.Create(ctx, &extensionsv1alpha1.Extension{ObjectMeta: metav1.ObjectMeta{Name: "shoot-falco-service", Namespace: name},
			Spec: extensionsv1alpha1.ExtensionSpec{DefaultSpec: extensionsv1alpha1.DefaultSpec{Type: servicev1alpha1.Type, ProviderConfig: providerConfig(b, false, pins...)}}}))
	}
	return env.Client, staticSources{profile: prof, files: files}, op
}

// BenchmarkExtensionActuator reconciles every Extension once: render and
// every write the actuator makes (finalizer, data Secret, ManagedResource,
// the list of old Secrets, status). It reports the heap in use at the end
// and the allocation per Extension.
func BenchmarkExtensionActuator(b *testing.B) {
	n := benchExtensions()
	c, src, op := benchLandscape(b, n)
	r := &extension.Reconciler{Client: c, Operator: op, Sources: src}
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		for i := range n {
			req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: fmt.Sprintf("shoot--p--s%04d", i), Name: "shoot-falco-service"}}
			if _, err := r.Reconcile(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*n), "B/extension")
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "MiB-heap-in-use")
	b.ReportMetric(float64(after.Sys)/(1<<20), "MiB-sys")
}

// BenchmarkPlainWrites makes the same writes with a plain client loop and
// content computed beforehand: the floor the actuator is measured against.
func BenchmarkPlainWrites(b *testing.B) {
	n := benchExtensions()
	c, _, _ := benchLandscape(b, n)
	ctx := context.Background()
	data := []byte(strings.Repeat("x", 6000))
	b.ResetTimer()
	for iter := range b.N {
		for i := range n {
			ns := fmt.Sprintf("shoot--p--s%04d", i)
			ext := &extensionsv1alpha1.Extension{}
			must(b, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shoot-falco-service"}, ext))
			patch := client.MergeFrom(ext.DeepCopy())
			ext.Finalizers = append(ext.Finalizers, extension.Finalizer)
			must(b, c.Patch(ctx, ext, patch))
			cluster := &extensionsv1alpha1.Cluster{}
			must(b, c.Get(ctx, client.ObjectKey{Name: ns}, cluster))
			secret := fmt.Sprintf("managedresource-%d", iter)
			must(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: ns, Labels: map[string]string{"origin": extension.Origin}},
				Data: map[string][]byte{resourcesv1alpha1.CompressedDataKey: data}}))
			mr := &resourcesv1alpha1.ManagedResource{ObjectMeta: metav1.ObjectMeta{Name: extension.ShootManagedResource, Namespace: ns},
				Spec: resourcesv1alpha1.ManagedResourceSpec{SecretRefs: []corev1.LocalObjectReference{{Name: secret}}}}
			_ = c.Get(ctx, client.ObjectKeyFromObject(mr), &resourcesv1alpha1.ManagedResource{})
			must(b, c.Create(ctx, mr))
			must(b, c.List(ctx, &corev1.SecretList{}, client.InNamespace(ns), client.MatchingLabels{"origin": extension.Origin}))
			patch = client.MergeFrom(ext.DeepCopy())
			ext.Status.LastOperation = &gardencorev1beta1.LastOperation{Type: gardencorev1beta1.LastOperationTypeCreate, State: gardencorev1beta1.LastOperationStateSucceeded, Progress: 100}
			ext.Status.ObservedGeneration = ext.Generation
			must(b, c.Status().Patch(ctx, ext, patch))
		}
	}
}

func must(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
