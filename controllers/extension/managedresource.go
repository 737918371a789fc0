package extension

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

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
	// Origin is the origin label value of our ManagedResources.
	Origin = "extension-shoot-falco-service"
	// secretPrefix prefixes the immutable data Secrets.
	secretPrefix = "managedresource-" + ShootManagedResource + "-"
	labelOrigin  = "origin"
	// labelGC lets gardener-resource-manager collect Secrets no
	// ManagedResource refers to any more.
	labelGC = "resources.gardener.cloud/garbage-collectable-reference"
)

// writeManagedResource stores manifests (one YAML stream) brotli-compressed
// in an immutable Secret named by its content and points the shoot's
// ManagedResource at it. The same manifests give the same Secret: a
// reconcile that changes nothing writes nothing.
func writeManagedResource(ctx context.Context, c client.Client, namespace string, manifests []byte) error {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.DefaultCompression)
	if _, err := w.Write(manifests); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256(manifests)
	name := secretPrefix + hex.EncodeToString(sum[:])[:8]
	yes := true
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{labelOrigin: Origin, labelGC: "true"}},
		Immutable:  &yes, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{resourcesv1alpha1.CompressedDataKey: buf.Bytes()},
	}
	if err := c.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("secret %s: %w", name, err)
	}
	mr := &resourcesv1alpha1.ManagedResource{ObjectMeta: metav1.ObjectMeta{Name: ShootManagedResource, Namespace: namespace}}
	if err := c.Get(ctx, client.ObjectKeyFromObject(mr), mr); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	old := mr.DeepCopy()
	if mr.Labels == nil {
		mr.Labels = map[string]string{}
	}
	mr.Labels[labelOrigin] = Origin
	mr.Labels["shoot.gardener.cloud/no-cleanup"] = "true"
	no := false
	mr.Spec.SecretRefs = []corev1.LocalObjectReference{{Name: name}}
	mr.Spec.KeepObjects = &no
	mr.Spec.Class = nil // no class: gardener-resource-manager applies it to the shoot
	if mr.ResourceVersion == "" {
		if err := c.Create(ctx, mr); err != nil {
			return fmt.Errorf("managedresource %s: %w", mr.Name, err)
		}
	} else if err := c.Patch(ctx, mr, client.MergeFrom(old)); err != nil {
		return fmt.Errorf("managedresource %s: %w", mr.Name, err)
	}
	return deleteOldSecrets(ctx, c, namespace, name)
}

// deleteOldSecrets removes our data Secrets other than keep.
func deleteOldSecrets(ctx context.Context, c client.Client, namespace, keep string) error {
	var list corev1.SecretList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{labelOrigin: Origin}); err != nil {
		return err
	}
	for i := range list.Items {
		s := &list.Items[i]
		if s.Name != keep && len(s.Name) > len(secretPrefix) && s.Name[:len(secretPrefix)] == secretPrefix {
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
