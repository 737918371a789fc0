package extension

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	resourcesv1alpha1 "github.com/gardener/gardener/pkg/apis/resources/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Gardener's names, so a shoot Gardener's extension served is adopted.
const (
	// ShootManagedResource holds everything deployed into the shoot.
	ShootManagedResource = "extension-shoot-falco-service-shoot"
	// SeedManagedResource holds what falcosidekick needs in the seed (its
	// token request and the ScrapeConfig); class seed.
	SeedManagedResource = "extension-shoot-falco-service-seed"
	// Origin is the origin label value of our ManagedResources.
	Origin      = "extension-shoot-falco-service"
	labelOrigin = "origin"
	// labelGC lets gardener-resource-manager collect Secrets no
	// ManagedResource refers to any more.
	labelGC = "resources.gardener.cloud/garbage-collectable-reference"
)

// managed is one of our ManagedResources.
type managed struct {
	name  string
	class string // "" applies to the shoot
}

var (
	shootMR = managed{name: ShootManagedResource}
	seedMR  = managed{name: SeedManagedResource, class: "seed"}
)

// secretPrefix prefixes the immutable data Secrets of m.
func (m managed) secretPrefix() string { return "managedresource-" + m.name + "-" }

// write stores manifests (one YAML stream) brotli-compressed in an
// immutable Secret named by its content and points the ManagedResource
// at it, with the annotations given. The same manifests give the same
// Secret: a reconcile that changes nothing writes nothing.
func (m managed) write(ctx context.Context, c client.Client, namespace string, manifests []byte, annotations map[string]string) error {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.DefaultCompression)
	if _, err := w.Write(manifests); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256(manifests)
	name := m.secretPrefix() + hex.EncodeToString(sum[:])[:8]
	yes := true
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{labelOrigin: Origin, labelGC: "true"}},
		Immutable:  &yes, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{resourcesv1alpha1.CompressedDataKey: buf.Bytes()},
	}
	if err := c.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	mr := &resourcesv1alpha1.ManagedResource{ObjectMeta: metav1.ObjectMeta{Name: m.name, Namespace: namespace}}
	if err := c.Get(ctx, client.ObjectKeyFromObject(mr), mr); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	old := mr.DeepCopy()
	if mr.Labels == nil {
		mr.Labels = map[string]string{}
	}
	mr.Labels[labelOrigin] = Origin
	if m.class == "" {
		mr.Labels["shoot.gardener.cloud/no-cleanup"] = "true"
	}
	for k, v := range annotations {
		metav1.SetMetaDataAnnotation(&mr.ObjectMeta, k, v)
	}
	no := false
	mr.Spec.SecretRefs = []corev1.LocalObjectReference{{Name: name}}
	mr.Spec.KeepObjects = &no
	mr.Spec.Class = nil // no class: gardener-resource-manager applies it to the shoot
	if m.class != "" {
		mr.Spec.Class = &m.class
	}
	if mr.ResourceVersion == "" {
		if err := c.Create(ctx, mr); err != nil {
			return fmt.Errorf("managedresource %s: %w", mr.Name, err)
		}
	} else if err := c.Patch(ctx, mr, client.MergeFrom(old)); err != nil {
		return fmt.Errorf("managedresource %s: %w", mr.Name, err)
	}
	return m.deleteOldSecrets(ctx, c, namespace, name)
}

// remove deletes the ManagedResource; gone reports whether it no longer
// exists (gardener-resource-manager deletes its objects first).
func (m managed) remove(ctx context.Context, c client.Client, namespace string, keepObjects bool) (gone bool, err error) {
	mr := &resourcesv1alpha1.ManagedResource{}
	err = c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: m.name}, mr)
	switch {
	case apierrors.IsNotFound(err):
		return true, m.deleteOldSecrets(ctx, c, namespace, "")
	case err != nil:
		return false, err
	}
	if keepObjects && (mr.Spec.KeepObjects == nil || !*mr.Spec.KeepObjects) {
		patch := client.MergeFrom(mr.DeepCopy())
		yes := true
		mr.Spec.KeepObjects = &yes
		if err := c.Patch(ctx, mr, patch); err != nil {
			return false, err
		}
	}
	if mr.DeletionTimestamp == nil {
		if err := c.Delete(ctx, mr); client.IgnoreNotFound(err) != nil {
			return false, err
		}
	}
	return false, nil
}

// deleteOldSecrets removes m's data Secrets other than keep.
func (m managed) deleteOldSecrets(ctx context.Context, c client.Client, namespace, keep string) error {
	var list corev1.SecretList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{labelOrigin: Origin}); err != nil {
		return err
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name != keep && strings.HasPrefix(s.Name, m.secretPrefix()) {
			if err := c.Delete(ctx, s); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	return nil
}

// Decompress reads a ManagedResource Secret's data.yaml.br, at most 64 MiB.
func Decompress(data []byte) ([]byte, error) {
	var out bytes.Buffer
	if _, err := out.ReadFrom(io.LimitReader(brotli.NewReader(bytes.NewReader(data)), 64<<20)); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
