package rollout

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

func TestNewInputs(t *testing.T) {
	profiles := []profilev1alpha1.FalcoProfile{*testProfile()}
	a, b := *source([2]string{"1.0.0", ""}), *source([2]string{"2.0.0", ""})
	a.Name, b.Name = "a", "b"
	in, err := NewInputs(profiles, []falcopsv1alpha1.RuleSource{a, b})
	require.NoError(t, err)
	assert.Equal(t, Revision(profiles, []falcopsv1alpha1.RuleSource{a, b}), in.Revision)
	assert.Equal(t, "a", in.Sources["falco-rules"].Name, "for a duplicate ruleset the first RuleSource wins")
	assert.Len(t, in.Profile.Versions(), 4)

	var blk *Blocked
	_, err = NewInputs(nil, nil)
	require.ErrorAs(t, err, &blk)
	assert.Equal(t, falcopsv1alpha1.ReasonNoProfile, blk.Reason())
	assert.Equal(t, "no FalcoProfile exists", blk.Message)

	bad := *testProfile()
	bad.Spec.Versions.Falco[0].Classification = "stable"
	_, err = NewInputs([]profilev1alpha1.FalcoProfile{bad}, nil)
	require.ErrorAs(t, err, &blk)
	assert.Equal(t, falcopsv1alpha1.ReasonNoProfile, blk.Reason())
	assert.Contains(t, blk.Message, "the FalcoProfiles are invalid: ")
}

func TestInputsCache(t *testing.T) {
	var c InputsCache
	profiles := []profilev1alpha1.FalcoProfile{*testProfile()}
	sources := []falcopsv1alpha1.RuleSource{*source([2]string{"1.0.0", ""})}
	first, err := c.For(profiles, sources)
	require.NoError(t, err)
	again, err := c.For([]profilev1alpha1.FalcoProfile{*testProfile()}, []falcopsv1alpha1.RuleSource{*source([2]string{"1.0.0", ""})})
	require.NoError(t, err)
	assert.Same(t, first, again, "unchanged objects: the same Inputs")

	// A RuleSource moved to another repository: same revision, new Inputs.
	moved := *source([2]string{"1.0.0", ""})
	moved.Spec.Repository, moved.ResourceVersion = "mirror.example/falco-rules", "2"
	next, err := c.For(profiles, []falcopsv1alpha1.RuleSource{moved})
	require.NoError(t, err)
	assert.Equal(t, first.Revision, next.Revision)
	assert.NotSame(t, first, next)
	assert.Equal(t, "mirror.example/falco-rules", next.Sources["falco-rules"].Spec.Repository)

	// A profile deleted and created again: same name, generation and
	// resourceVersion counter, another UID.
	recreated := *testProfile()
	recreated.UID = "p2"
	recreated.Spec.Versions.Falco = recreated.Spec.Versions.Falco[:2]
	recreated.Spec.Images.Falco = recreated.Spec.Images.Falco[:2]
	next, err = c.For([]profilev1alpha1.FalcoProfile{recreated}, []falcopsv1alpha1.RuleSource{moved})
	require.NoError(t, err)
	assert.Len(t, next.Profile.Versions(), 2)

	// Errors are remembered too, and cleared by the next change.
	_, err = c.For(nil, sources)
	var blk *Blocked
	require.ErrorAs(t, err, &blk)
	_, err = c.For(nil, sources)
	require.ErrorAs(t, err, &blk)
	_, err = c.For(profiles, sources)
	require.NoError(t, err)
}
