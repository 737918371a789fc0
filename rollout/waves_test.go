package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

func TestWaves(t *testing.T) {
	policy := &falcopsv1alpha1.RolloutPolicy{Spec: falcopsv1alpha1.RolloutPolicySpec{Waves: []falcopsv1alpha1.Wave{
		{Name: "canary", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"canary": "true"}}},
		{Name: "half", Percent: ptr.To(int32(50))},
		{Name: "rest"},
	}}}
	w, err := NewWaves(policy)
	require.NoError(t, err)
	require.Equal(t, 3, w.Len())
	assert.Equal(t, 0, w.Of("ns", "a", map[string]string{"canary": "true"}), "canary shoot")
	counts := make([]int, 3)
	for i := range 1000 {
		counts[w.Of("ns", strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Duration(i).String(), nil)]++
	}
	assert.Zero(t, counts[0], "no unlabelled shoot in the canary wave")
	assert.InDelta(t, 500, counts[1], 100, "about half in wave 1: %v", counts)
	assert.Equal(t, 1000, counts[1]+counts[2])
	assert.Equal(t, w.Of("ns", "same", nil), w.Of("ns", "same", nil), "wave assignment is stable")

	single, err := NewWaves(nil)
	require.NoError(t, err)
	assert.Equal(t, 1, single.Len(), "no policy is one wave")
	assert.Equal(t, "all", single.Name(0))

	_, err = NewWaves(&falcopsv1alpha1.RolloutPolicy{Spec: falcopsv1alpha1.RolloutPolicySpec{Waves: []falcopsv1alpha1.Wave{
		{Name: "bad", Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Nope"}}}},
	}}})
	assert.ErrorContains(t, err, "wave bad")
}

func TestRevision(t *testing.T) {
	p1 := []profilev1alpha1.FalcoProfile{{ObjectMeta: metav1.ObjectMeta{Name: "falco", Generation: 1}}}
	p2 := []profilev1alpha1.FalcoProfile{{ObjectMeta: metav1.ObjectMeta{Name: "falco", Generation: 2}}}
	s := []falcopsv1alpha1.RuleSource{*source([2]string{"1.0.0", ""})}
	again := []falcopsv1alpha1.RuleSource{*source([2]string{"1.0.0", ""})}
	assert.NotEqual(t, Revision(p1, s), Revision(p2, s), "the profile generation changes the revision")
	assert.Equal(t, Revision(p1, s), Revision(p1, again), "equal inputs, equal revision")
	assert.NotEqual(t, Revision(p1, nil), Revision(p1, s), "the verified digests change the revision")
}
