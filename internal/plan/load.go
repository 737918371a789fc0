package plan

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
)

// Load reads the FalcoProfiles and RuleSources (from a cache, without
// copying them: the Input must be treated as read-only) into an
// Input without Falco, Now and AllowDowngrade, and returns the rollout
// revision of those inputs. No or invalid profiles are a *Blocked error
// with reason NoProfile.
func Load(ctx context.Context, c client.Reader) (Input, string, error) {
	var profiles profilev1alpha1.FalcoProfileList
	if err := c.List(ctx, &profiles, client.UnsafeDisableDeepCopy); err != nil {
		return Input{}, "", err
	}
	var sources falcopsv1alpha1.RuleSourceList
	if err := c.List(ctx, &sources, client.UnsafeDisableDeepCopy); err != nil {
		return Input{}, "", err
	}
	revision := Revision(profiles.Items, sources.Items)
	if len(profiles.Items) == 0 {
		return Input{}, revision, &Blocked{Reason: falcopsv1alpha1.ReasonNoProfile, Message: "no FalcoProfile exists"}
	}
	objs := make([]*profilev1alpha1.FalcoProfile, len(profiles.Items))
	for i := range profiles.Items {
		objs[i] = &profiles.Items[i]
	}
	prof, err := lifecycle.FromObjects(objs...)
	if err != nil {
		return Input{}, revision, &Blocked{Reason: falcopsv1alpha1.ReasonNoProfile, Message: fmt.Sprintf("the FalcoProfiles are invalid: %v", err)}
	}
	return Input{Profile: prof, Sources: bySet(sources.Items)}, revision, nil
}

// bySet indexes RuleSources by ruleset; for a duplicate the first by name
// wins (List returns them sorted by name).
func bySet(items []falcopsv1alpha1.RuleSource) map[string]*falcopsv1alpha1.RuleSource {
	m := make(map[string]*falcopsv1alpha1.RuleSource, len(items))
	for i := range items {
		if _, dup := m[items[i].Spec.Ruleset]; !dup {
			m[items[i].Spec.Ruleset] = &items[i]
		}
	}
	return m
}
