package scheme

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/shoot"
)

// Cache is the cache of every falcops garden manager: managed fields
// stripped from every object; Secrets, full and metadata-only, only in
// namespace and only with the label falcopsv1alpha1.SecretLabel=true;
// shoots only those shoots selects, slimmed to the fields falcops reads.
func Cache(namespace string, shoots labels.Selector) cache.Options {
	secrets := cache.ByObject{Namespaces: map[string]cache.Config{namespace: {
		LabelSelector: labels.SelectorFromSet(labels.Set{falcopsv1alpha1.SecretLabel: "true"}),
	}}}
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: secrets,
			SecretMetadata(): secrets,
			shoot.New():      {Label: shoots, Transform: shoot.Slim},
		},
	}
}

// SecretMetadata stands for a metadata-only Secret informer, should one
// ever be started (a metadata list): it is scoped like the full one.
func SecretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}
