package v1alpha1

import (
	"errors"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
)

// DefaultStandard is what Gardener's mutator selects when rules is absent.
const DefaultStandard = "falco-rules"

// SetDefaults fills a FalcoServiceConfig as Gardener's mutator does, and
// nothing more: what is set stays as it is.
//   - falcoVersion: defaultVersion() (the highest non-expired supported
//     version of the profile; lifecycle.DefaultVersion). It is a function
//     so a config that names its version never needs a profile, and the
//     clock stays with the caller.
//   - autoUpdate: true.
//   - rules.standard: [falco-rules], only when rules is absent.
//   - destinations: [{name: <operator.DefaultDestination>}] (logging)
//     when the list is absent or empty.
func SetDefaults(c *FalcoServiceConfig, defaultVersion func() (string, error), operator *configv1alpha1.Configuration) error {
	if c == nil {
		return errors.New("cannot default a nil FalcoServiceConfig")
	}
	c.APIVersion, c.Kind = SchemeGroupVersion.String(), Kind
	if c.FalcoVersion == nil {
		v, err := defaultVersion()
		if err != nil {
			return err
		}
		c.FalcoVersion = &v
	}
	if c.AutoUpdate == nil {
		yes := true
		c.AutoUpdate = &yes
	}
	if c.Rules == nil {
		c.Rules = &Rules{StandardRules: &[]string{DefaultStandard}}
	}
	if c.Destinations == nil || len(*c.Destinations) == 0 {
		name := "logging"
		if operator != nil && operator.DefaultDestination != "" {
			name = operator.DefaultDestination
		}
		c.Destinations = &[]Destination{{Name: name}}
	}
	return nil
}
