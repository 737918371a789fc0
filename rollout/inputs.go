package rollout

import (
	"slices"
	"sync"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/shoot"
)

// Inputs is what every shoot's decision shares: the merged profiles and the
// RuleSources. It is read-only once made, so goroutines may share it.
type Inputs struct {
	// Revision names the inputs (see Revision).
	Revision string
	// Profile is the merge of every FalcoProfile.
	Profile *lifecycle.Profile
	// Sources are the RuleSources by ruleset name. A standard ruleset
	// without a RuleSource is not managed by falcops and gets no pin.
	Sources map[string]*falcopsv1alpha1.RuleSource
	// Operator, when set, says which rulesets each standard selection
	// implies and which ruleset heartbeatEvent loads (rules.implies,
	// rules.heartbeat): those are pinned too.
	Operator *configv1alpha1.Configuration
}

// Rulesets are the rulesets shoot f loads, in load order: each standard
// selection with what the operator configuration says it implies, then
// the heartbeat ruleset when heartbeatEvent is on. Without an operator
// configuration, the standard selections.
func (in *Inputs) Rulesets(f *shoot.FalcoConfig) []string {
	if in.Operator == nil {
		return f.Standard
	}
	return in.Operator.Rulesets(f.Standard, f.Heartbeat)
}

// NewInputs merges the listed FalcoProfiles and indexes the RuleSources.
// The items may come from a cache without copying: Inputs keeps pointers
// into sources and never writes through them. No or invalid profiles are a
// *Blocked error with reason NoProfile.
func NewInputs(profiles []profilev1alpha1.FalcoProfile, sources []falcopsv1alpha1.RuleSource) (*Inputs, error) {
	revision := Revision(profiles, sources)
	if len(profiles) == 0 {
		return nil, blocked(falcopsv1alpha1.ReasonNoProfile, "no FalcoProfile exists")
	}
	objs := make([]*profilev1alpha1.FalcoProfile, len(profiles))
	for i := range profiles {
		objs[i] = &profiles[i]
	}
	prof, err := lifecycle.FromObjects(objs...)
	if err != nil {
		return nil, blocked(falcopsv1alpha1.ReasonNoProfile, "the FalcoProfiles are invalid: %v", err)
	}
	return &Inputs{Revision: revision, Profile: prof, Sources: bySet(sources)}, nil
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

// InputsCache remembers the Inputs of the last listed objects, so that the
// reconcilers and the event mapping, which list the same objects for every
// shoot, merge the profiles once per change instead of once per shoot. The
// zero value is ready to use; it is safe for concurrent use.
type InputsCache struct {
	// Operator is passed on to every Inputs (see Inputs.Operator).
	Operator *configv1alpha1.Configuration

	mu     sync.Mutex
	key    []objectVersion
	inputs *Inputs
	err    error
}

// objectVersion identifies one state of a listed object. It is stricter
// than the revision, which leaves out what cannot start a rollout (such as
// a RuleSource's repository, or a profile deleted and created again with
// the same generation) but still changes the decisions.
type objectVersion struct{ kind, name, uid, resourceVersion string }

// For returns NewInputs(profiles, sources), computed again only when one of
// the objects changed (by UID and resourceVersion).
func (c *InputsCache) For(profiles []profilev1alpha1.FalcoProfile, sources []falcopsv1alpha1.RuleSource) (*Inputs, error) {
	key := make([]objectVersion, 0, len(profiles)+len(sources))
	for i := range profiles {
		p := &profiles[i]
		key = append(key, objectVersion{"FalcoProfile", p.Name, string(p.UID), p.ResourceVersion})
	}
	for i := range sources {
		s := &sources[i]
		key = append(key, objectVersion{"RuleSource", s.Name, string(s.UID), s.ResourceVersion})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key == nil || !slices.Equal(c.key, key) {
		c.inputs, c.err = NewInputs(profiles, sources)
		if c.inputs != nil {
			c.inputs.Operator = c.Operator
		}
		c.key = key
	}
	return c.inputs, c.err
}
