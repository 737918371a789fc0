package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/shoot"
)

// TestCacheScope: the manager caches Secrets (full and metadata-only) of
// its own namespace only, shoots only with the Falco label and slimmed,
// and without managed fields.
func TestCacheScope(t *testing.T) {
	h := newHarness(t)
	other := "other-" + h.ns
	require.NoError(t, h.c.Create(h.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: other}}))
	applyProfile(t, h.c, "0.42.1=supported")
	h.shoot("falco", "0.42.1")
	unlabelled := h.shoot("plain", "0.42.1")
	unlabelled.SetLabels(nil)
	require.NoError(t, h.c.Update(h.ctx, unlabelled))
	h.start(testenv.Shared(t))
	h.waitReason("falco", falcopsv1alpha1.ReasonUpToDate)
	cache := h.mgr.GetCache()

	meta := &metav1.PartialObjectMetadataList{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	require.NoError(t, cache.List(h.ctx, meta))
	for _, m := range meta.Items {
		assert.Equal(t, h.ns, m.Namespace, "metadata of Secret %s/%s cached", m.Namespace, m.Name)
	}
	var secrets corev1.SecretList
	require.NoError(t, cache.List(h.ctx, &secrets))
	for _, s := range secrets.Items {
		assert.Equal(t, h.ns, s.Namespace, "Secret %s/%s cached", s.Namespace, s.Name)
	}

	shoots := &unstructured.UnstructuredList{}
	shoots.SetGroupVersionKind(shoot.NewList().GroupVersionKind())
	require.NoError(t, cache.List(h.ctx, shoots, client.InNamespace(h.ns)))
	require.Len(t, shoots.Items, 1, "only the labelled shoot is cached")
	s := shoots.Items[0]
	assert.Equal(t, "falco", s.GetName())
	assert.Empty(t, s.GetManagedFields(), "managed fields are stripped")
	_, hasKubernetes, _ := unstructured.NestedFieldNoCopy(s.Object, "spec", "kubernetes")
	assert.False(t, hasKubernetes, "spec.kubernetes is not needed and not cached")
}
