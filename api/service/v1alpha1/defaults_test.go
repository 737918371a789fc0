package v1alpha1_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// TestSetDefaults: the minimal config gets what Gardener's mutator sets;
// what is set stays; rules.standard is defaulted only when rules is absent.
func TestSetDefaults(t *testing.T) {
	called := 0
	def := func() (string, error) { called++; return "0.42.1", nil }
	c := &servicev1alpha1.FalcoServiceConfig{}
	require.NoError(t, servicev1alpha1.SetDefaults(c, def, nil))
	assert.Equal(t, "0.42.1", *c.FalcoVersion)
	assert.True(t, *c.AutoUpdate)
	assert.Equal(t, []string{"falco-rules"}, *c.Rules.StandardRules)
	assert.Equal(t, []servicev1alpha1.Destination{{Name: "logging"}}, *c.Destinations)
	assert.Equal(t, "falco.extensions.gardener.cloud/v1alpha1", c.APIVersion)

	v, no := "0.41.3", false
	custom := []servicev1alpha1.CustomRule{{ShootConfigMap: "x"}}
	c = &servicev1alpha1.FalcoServiceConfig{FalcoVersion: &v, AutoUpdate: &no, Rules: &servicev1alpha1.Rules{CustomRules: &custom},
		Destinations: &[]servicev1alpha1.Destination{}}
	op := &configv1alpha1.Configuration{DefaultDestination: "stdout"}
	require.NoError(t, servicev1alpha1.SetDefaults(c, def, op))
	assert.Equal(t, 1, called, "a set version never asks the profile")
	assert.Equal(t, "0.41.3", *c.FalcoVersion)
	assert.False(t, *c.AutoUpdate)
	assert.Nil(t, c.Rules.StandardRules, "rules present: standard stays unset")
	assert.Equal(t, []servicev1alpha1.Destination{{Name: "stdout"}}, *c.Destinations, "an empty list is defaulted, to the operator's choice")

	boom := errors.New("no version with classification supported was found")
	err := servicev1alpha1.SetDefaults(&servicev1alpha1.FalcoServiceConfig{}, func() (string, error) { return "", boom }, nil)
	assert.ErrorIs(t, err, boom)
	assert.Error(t, servicev1alpha1.SetDefaults(nil, def, nil))
}
