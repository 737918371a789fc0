package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/shoot"
)

// TestCacheScope: the manager caches Secrets (full and metadata-only) of
// its own namespace only and only with the label falcops.dev/secret=true,
// shoots only with the Falco label and slimmed, and without managed
// fields; a RuleSource naming an unlabelled Secret cannot read it.
func TestCacheScope(t *testing.T) {
	h := newHarness(t)
	other := "other-" + h.ns
	require.NoError(t, h.c.Create(h.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}}))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: other,
		Labels: map[string]string{falcopsv1alpha1.SecretLabel: "true"}}}))
	require.NoError(t, h.c.Create(h.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unlabelled", Namespace: h.ns},
		Data: map[string][]byte{"cosign.pub": h.pub.PublicKey}}))
	unreadable := &falcopsv1alpha1.RuleSource{ObjectMeta: metav1.ObjectMeta{Name: "unlabelled-key"},
		Spec: falcopsv1alpha1.RuleSourceSpec{Ruleset: "other-rules", Repository: h.pub.Repo("other-rules"), Follow: "1", Insecure: true,
			Verify: falcopsv1alpha1.VerifySpec{SecretRef: &falcopsv1alpha1.SecretReference{Name: "unlabelled"}}}}
	require.NoError(t, h.c.Create(h.ctx, unreadable))
	applyProfile(t, h.c, "0.42.1=supported")
	h.shoot("falco", "0.42.1")
	unlabelled := h.shoot("plain", "0.42.1")
	unlabelled.SetLabels(nil)
	require.NoError(t, h.c.Update(h.ctx, unlabelled))
	h.start(testenv.Shared(t))
	h.waitReason("falco", falcopsv1alpha1.ReasonUpToDate)
	cache := h.mgr.GetCache()

	metaList := &metav1.PartialObjectMetadataList{}
	metaList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	require.NoError(t, cache.List(h.ctx, metaList))
	require.NotEmpty(t, metaList.Items)
	for _, m := range metaList.Items {
		assert.Equal(t, h.ns+"/cosign", m.Namespace+"/"+m.Name, "metadata of Secret %s/%s cached", m.Namespace, m.Name)
	}
	var secrets corev1.SecretList
	require.NoError(t, cache.List(h.ctx, &secrets))
	require.NotEmpty(t, secrets.Items)
	for _, s := range secrets.Items {
		assert.Equal(t, h.ns+"/cosign", s.Namespace+"/"+s.Name, "Secret %s/%s cached", s.Namespace, s.Name)
	}
	h.eventually(func(c *assert.CollectT) {
		rs := &falcopsv1alpha1.RuleSource{}
		require.NoError(c, h.c.Get(h.ctx, client.ObjectKeyFromObject(unreadable), rs))
		cond := meta.FindStatusCondition(rs.Status.Conditions, falcopsv1alpha1.VerifiedCondition)
		require.NotNil(c, cond)
		assert.Equal(c, falcopsv1alpha1.ReasonKeyMissing, cond.Reason)
		assert.Contains(c, cond.Message, "must carry the label falcops.dev/secret=true")
	}, "the RuleSource naming an unlabelled Secret says it cannot read it")

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
