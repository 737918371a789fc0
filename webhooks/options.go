package webhooks

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/rules"
)

// Options are what the webhooks share.
type Options struct {
	// Operator is the defaulted operator configuration (restrictedUsage,
	// restrictedCentralizedLogging, otlpLogging, globalDefaultDestinations,
	// rules.implies); nil means Gardener's defaults.
	Operator *configv1alpha1.Configuration
	// Inputs returns the merged FalcoProfiles and the RuleSources (from the
	// manager's cache in falcops-controller).
	Inputs func(ctx context.Context) (*rollout.Inputs, error)
	// Garden reads Namespaces, Projects and ShootRollouts (cached).
	Garden client.Reader
	// ConfigMaps reads the custom rules ConfigMaps of a request; an
	// uncached reader, so the garden's ConfigMaps are not all watched.
	ConfigMaps client.Reader
	// Base returns the rules files a shoot's custom rules load after, in
	// load order: those of its rulesets (by name, in load order) at pins
	// (the shoot's, or the ones the controller would pin first; a ruleset
	// may have none yet). nil: custom rules are checked with Gardener's
	// limits only.
	Base func(ctx context.Context, rulesets []string, pins []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error)
	// ControllerUser is the username of falcops-controller: the only user
	// who may set or change rules.pinned.
	ControllerUser string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return clock.RealClock{}.Now()
	}
	return o.Now()
}

// RegistryBase is Options.Base from a function that returns the verified
// files of pins (the extension's registry code): every ruleset needs a
// pin.
func RegistryBase(files func(ctx context.Context, pins []servicev1alpha1.PinnedRuleset) (map[string]map[string][]byte, error)) func(context.Context, []string, []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
	return func(ctx context.Context, rulesets []string, pins []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
		for _, name := range rulesets {
			if !slices.ContainsFunc(pins, func(p servicev1alpha1.PinnedRuleset) bool { return p.Name == name }) {
				return nil, fmt.Errorf("ruleset %s has no verified version yet", name)
			}
		}
		fs, err := files(ctx, pins)
		if err != nil {
			return nil, err
		}
		return customrules.Base(servicev1alpha1.PinNames(pins), fs), nil
	}
}
