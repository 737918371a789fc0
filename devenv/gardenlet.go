package devenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/andybalholm/brotli"
	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	resourcesv1alpha1 "github.com/gardener/gardener/pkg/apis/resources/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/shoot"
)

// SyncInterval is how often the stand-ins of gardenlet and
// gardener-resource-manager look at the clusters.
const SyncInterval = time.Second

// gardenlet mirrors each garden shoot with the Falco extension into the
// seed, as gardenlet does: the shoot's namespace, its Cluster (the shoot
// as JSON) and its Extension (type and providerConfig). It keeps no state
// but the last shoot generation it mirrored.
type gardenlet struct {
	garden, seed client.Client
	// kubeconfigs are the shoot kubeconfigs gardenlet keeps in the seed
	// (Secret gardener), by seed namespace.
	kubeconfigs map[string][]byte
	synced      map[string]int64
}

func (g *gardenlet) sync(ctx context.Context) error {
	list := shoot.NewList()
	if err := g.garden.List(ctx, list); err != nil {
		return err
	}
	for i := range list.Items {
		u := &list.Items[i]
		key := u.GetNamespace() + "/" + u.GetName()
		if g.synced[key] == u.GetGeneration() {
			continue
		}
		if err := g.mirror(ctx, u); err != nil {
			return fmt.Errorf("shoot %s: %w", key, err)
		}
		g.synced[key] = u.GetGeneration()
	}
	return nil
}

// seedNamespace is Gardener's namespace of a shoot in its seed.
func seedNamespace(u *unstructured.Unstructured) string {
	return "shoot--" + projectOf(u.GetNamespace()) + "--" + u.GetName()
}

func projectOf(namespace string) string {
	if len(namespace) > len("garden-") {
		return namespace[len("garden-"):]
	}
	return namespace
}

func (g *gardenlet) mirror(ctx context.Context, u *unstructured.Unstructured) error {
	ns := seedNamespace(u)
	if err := client.IgnoreAlreadyExists(g.seed.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})); err != nil {
		return err
	}
	if kc, ok := g.kubeconfigs[ns]; ok {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gardener", Namespace: ns}, Data: map[string][]byte{"kubeconfig": kc}}
		if err := createOrUpdate(ctx, g.seed, s, func() { s.Data = map[string][]byte{"kubeconfig": kc} }); err != nil {
			return err
		}
	}
	raw, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	cluster := &extensionsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	setCluster := func() {
		cluster.Spec = extensionsv1alpha1.ClusterSpec{CloudProfile: runtime.RawExtension{Raw: []byte("{}")},
			Seed: &runtime.RawExtension{Raw: []byte("{}")}, Shoot: runtime.RawExtension{Raw: raw}}
	}
	setCluster()
	if err := createOrUpdate(ctx, g.seed, cluster, setCluster); err != nil {
		return err
	}
	pc, err := providerConfig(u)
	if err != nil {
		return err
	}
	ext := &extensionsv1alpha1.Extension{ObjectMeta: metav1.ObjectMeta{Name: servicev1alpha1.Type, Namespace: ns}}
	setExt := func() {
		ext.Spec.Type = servicev1alpha1.Type
		ext.Spec.ProviderConfig = pc
	}
	setExt()
	return createOrUpdate(ctx, g.seed, ext, setExt)
}

// providerConfig is the Falco extension's providerConfig of the shoot.
func providerConfig(u *unstructured.Unstructured) (*runtime.RawExtension, error) {
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	for _, e := range exts {
		m, _ := e.(map[string]any)
		if m["type"] != servicev1alpha1.Type {
			continue
		}
		if m["providerConfig"] == nil {
			return nil, nil
		}
		raw, err := json.Marshal(m["providerConfig"])
		return &runtime.RawExtension{Raw: raw}, err
	}
	return nil, nil
}

// createOrUpdate creates obj, or reads the existing one, applies set and
// updates it.
func createOrUpdate(ctx context.Context, c client.Client, obj client.Object, set func()) error {
	err := c.Create(ctx, obj)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return err
	}
	set()
	return c.Update(ctx, obj)
}

// resourceManager applies the objects of one shoot's ManagedResource (the
// extension's shoot ManagedResource in the seed) to the shoot's API
// server, as gardener-resource-manager does, whenever its Secret changes.
type resourceManager struct {
	seed, shoot client.Client
	namespace   string
	// applied are the resourceVersions of the Secrets applied last.
	applied map[string]string
	// Applied counts the applies, for status output.
	Applied int
}

func (m *resourceManager) sync(ctx context.Context) error {
	var list resourcesv1alpha1.ManagedResourceList
	if err := m.seed.List(ctx, &list, client.InNamespace(m.namespace)); err != nil {
		return err
	}
	for i := range list.Items {
		mr := &list.Items[i]
		// Without a class, a ManagedResource is for the shoot.
		if mr.Spec.Class != nil && *mr.Spec.Class != "" {
			continue
		}
		if err := m.applyResource(ctx, mr); err != nil {
			return fmt.Errorf("ManagedResource %s/%s: %w", m.namespace, mr.Name, err)
		}
	}
	return nil
}

func (m *resourceManager) applyResource(ctx context.Context, mr *resourcesv1alpha1.ManagedResource) error {
	for _, ref := range mr.Spec.SecretRefs {
		s := &corev1.Secret{}
		if err := m.seed.Get(ctx, client.ObjectKey{Namespace: m.namespace, Name: ref.Name}, s); err != nil {
			return err
		}
		if m.applied[s.Name] == s.ResourceVersion {
			continue
		}
		for key, data := range s.Data {
			manifests, err := readManifests(key, data)
			if err != nil {
				return fmt.Errorf("secret %s key %s: %w", s.Name, key, err)
			}
			objs, err := decodeAll(manifests)
			if err != nil {
				return fmt.Errorf("secret %s key %s: %w", s.Name, key, err)
			}
			for _, u := range objs {
				if err := apply(ctx, m.shoot, u); err != nil {
					return fmt.Errorf("applying %s %s/%s to the shoot: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
				}
			}
		}
		m.applied[s.Name] = s.ResourceVersion
		m.Applied++
	}
	return nil
}

// maxManifests bounds what one Secret key may expand to.
const maxManifests = 64 << 20

// readManifests is the YAML of one ManagedResource Secret key: plain, or
// brotli-compressed for the key data.yaml.br.
func readManifests(key string, data []byte) ([]byte, error) {
	var r io.Reader = bytes.NewReader(data)
	if key == resourcesv1alpha1.CompressedDataKey {
		r = brotli.NewReader(r)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(io.LimitReader(r, maxManifests+1)); err != nil {
		return nil, err
	}
	if out.Len() > maxManifests {
		return nil, fmt.Errorf("more than %d bytes of manifests", maxManifests)
	}
	return out.Bytes(), nil
}

// decodeAll decodes the YAML documents of data, Namespaces first, as
// gardener-resource-manager orders them.
func decodeAll(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
	slices.SortStableFunc(out, func(a, b *unstructured.Unstructured) int {
		return boolInt(b.GetKind() == "Namespace") - boolInt(a.GetKind() == "Namespace")
	})
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
