package fleet

import (
	"cmp"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

// Examples is how many shoots a group names.
const Examples = 5

// Summary is the fleet at a glance.
type Summary struct {
	// Shoots is how many shoots falcops manages; UpToDate how many run
	// their target.
	Shoots   int `json:"shoots"`
	UpToDate int `json:"upToDate"`
	// FalcoVersions are the shoots per Falco version, lowest first, with
	// the profiles' versions that no shoot runs (0 shoots).
	FalcoVersions []Count `json:"falcoVersions"`
	// Rulesets are the shoots per pinned version of each ruleset.
	Rulesets []Ruleset `json:"rulesets"`
	// Waves are the rollout progress of each policy's waves, in order.
	Waves []Wave `json:"waves"`
	// Blocked are the shoots no rollout can move without an operator,
	// Waiting those that wait for a window or a wave, grouped by reason,
	// most shoots first.
	Blocked []Group `json:"blocked"`
	Waiting []Group `json:"waiting"`
	// Sources are the RuleSources by name.
	Sources []Source `json:"sources"`
}

// Count is how many shoots have a value. For a Falco version a profile
// lists, Classification and ExpirationDate are the profile's.
type Count struct {
	Value          string `json:"value"`
	Shoots         int    `json:"shoots"`
	Classification string `json:"classification,omitempty"`
	ExpirationDate string `json:"expirationDate,omitempty"`
}

// Ruleset is the shoots per pinned version of one ruleset ("" = no pin
// yet).
type Ruleset struct {
	Name     string  `json:"name"`
	Versions []Count `json:"versions"`
}

// Wave is one wave of a RolloutPolicy.
type Wave struct {
	Policy   string `json:"policy"`
	Name     string `json:"name"`
	Shoots   int32  `json:"shoots"`
	UpToDate int32  `json:"upToDate"`
	Failed   int32  `json:"failed"`
	// Open: shoots of the wave may change; Current: the highest open one.
	Open    bool `json:"open"`
	Current bool `json:"current"`
	// OpensAt is when a closed wave opens: the previous wave completed
	// and the policy's pause is running (nil otherwise).
	OpensAt *metav1.Time `json:"opensAt,omitempty"`
}

// Group is the shoots of one reason, with the message of the first and
// up to Examples of them (namespace/name, sorted).
type Group struct {
	Reason   string   `json:"reason"`
	Message  string   `json:"message"`
	Shoots   int      `json:"shoots"`
	Examples []string `json:"examples"`
}

// Source is one RuleSource.
type Source struct {
	Name    string `json:"name"`
	Ruleset string `json:"ruleset"`
	Follow  string `json:"follow"`
	// Latest is the newest verified version ("" = none yet).
	Latest string `json:"latest"`
	// Ready is the Ready condition's status; Message its message when
	// not True.
	Ready   string `json:"ready"`
	Message string `json:"message,omitempty"`
	// Rejected is the digest that did not verify, with its reason.
	Rejected *falcopsv1alpha1.RejectedDigest `json:"rejected,omitempty"`
}

// blockedReasons are the reasons that need an operator (the Stalled
// condition says so too).
var blockedReasons = []string{falcopsv1alpha1.ReasonDowngradeBlocked, falcopsv1alpha1.ReasonNoCompatibleRuleset,
	falcopsv1alpha1.ReasonNoProfile, falcopsv1alpha1.ReasonInvalidProviderConfig, falcopsv1alpha1.ReasonPatchFailed,
	falcopsv1alpha1.ReasonRolloutHalted}

// Summarize computes the summary of the listed objects.
func Summarize(rollouts []falcopsv1alpha1.ShootRollout, sources []falcopsv1alpha1.RuleSource, policies []falcopsv1alpha1.RolloutPolicy,
	profiles []profilev1alpha1.FalcoProfile) Summary {
	s := Summary{Shoots: len(rollouts), FalcoVersions: []Count{}, Rulesets: []Ruleset{}, Waves: []Wave{},
		Blocked: []Group{}, Waiting: []Group{}, Sources: []Source{}}
	falco := map[string]int{}
	pins := map[string]map[string]int{}
	blocked, waiting := map[string]*Group{}, map[string]*Group{}
	for i := range rollouts {
		r := &rollouts[i]
		falco[r.Status.FalcoVersion]++
		for _, p := range r.Status.Rulesets {
			if pins[p.Name] == nil {
				pins[p.Name] = map[string]int{}
			}
			pins[p.Name][p.Version]++
		}
		name := r.Namespace + "/" + r.Name
		switch {
		case isTrue(r.Status.Conditions, falcopsv1alpha1.UpToDateCondition) || r.Status.Reason == falcopsv1alpha1.ReasonUpToDate:
			s.UpToDate++
		case isTrue(r.Status.Conditions, falcopsv1alpha1.StalledCondition) || slices.Contains(blockedReasons, r.Status.Reason):
			add(blocked, r.Status.Reason, r.Status.Message, name)
		case r.Status.Reason != "":
			add(waiting, r.Status.Reason, r.Status.Message, name)
		}
	}
	listed := profileVersions(profiles)
	for v := range listed {
		falco[v] += 0 // listed, run by no shoot
	}
	s.FalcoVersions = counts(falco)
	for i, c := range s.FalcoVersions {
		if v, ok := listed[c.Value]; ok {
			s.FalcoVersions[i].Classification = v.Classification
			if v.ExpirationDate != nil {
				s.FalcoVersions[i].ExpirationDate = *v.ExpirationDate
			}
		}
	}
	for _, name := range sortedKeys(pins) {
		s.Rulesets = append(s.Rulesets, Ruleset{Name: name, Versions: counts(pins[name])})
	}
	s.Blocked, s.Waiting = groups(blocked), groups(waiting)
	for _, p := range sortedBy(policies, func(p falcopsv1alpha1.RolloutPolicy) string { return p.Name }) {
		open := int(p.Status.OpenWaves)
		for i, w := range p.Status.Waves {
			wave := Wave{Policy: p.Name, Name: w.Name, Shoots: w.Shoots, UpToDate: w.UpToDate, Failed: w.Failed,
				Open: i < open, Current: w.Name == p.Status.CurrentWave}
			if i == open && i > 0 && p.Spec.Pause != nil && p.Status.Waves[i-1].CompletedAt != nil {
				wave.OpensAt = &metav1.Time{Time: p.Status.Waves[i-1].CompletedAt.Add(p.Spec.Pause.Duration)}
			}
			s.Waves = append(s.Waves, wave)
		}
	}
	for _, src := range sortedBy(sources, func(r falcopsv1alpha1.RuleSource) string { return r.Name }) {
		out := Source{Name: src.Name, Ruleset: src.Spec.Ruleset, Follow: src.Spec.Follow, Ready: "Unknown", Rejected: src.Status.Rejected}
		if src.Status.Latest != nil {
			out.Latest = src.Status.Latest.Version
		}
		if c := meta.FindStatusCondition(src.Status.Conditions, falcopsv1alpha1.ReadyCondition); c != nil {
			out.Ready = string(c.Status)
			if c.Status != metav1.ConditionTrue {
				out.Message = c.Message
			}
		}
		s.Sources = append(s.Sources, out)
	}
	return s
}

// profileVersions are the Falco versions the profiles list, by version;
// the first profile (by name) that lists a version wins.
func profileVersions(profiles []profilev1alpha1.FalcoProfile) map[string]profilev1alpha1.FalcoVersion {
	out := map[string]profilev1alpha1.FalcoVersion{}
	for _, p := range sortedBy(profiles, func(p profilev1alpha1.FalcoProfile) string { return p.Name }) {
		for _, v := range p.Spec.Versions.Falco {
			if _, ok := out[v.Version]; !ok {
				out[v.Version] = v
			}
		}
	}
	return out
}

func isTrue(conds []metav1.Condition, t string) bool { return meta.IsStatusConditionTrue(conds, t) }

func add(m map[string]*Group, reason, message, shoot string) {
	g := m[reason]
	if g == nil {
		g = &Group{Reason: reason, Message: message}
		m[reason] = g
	}
	g.Shoots++
	g.Examples = append(g.Examples, shoot)
}

// groups are the groups most shoots first, then by reason, each naming
// its first Examples shoots in order.
func groups(m map[string]*Group) []Group {
	out := []Group{}
	for _, g := range m {
		slices.Sort(g.Examples)
		g.Examples = g.Examples[:min(len(g.Examples), Examples)]
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Shoots, a.Shoots), strings.Compare(a.Reason, b.Reason))
	})
	return out
}

// counts are the counts by value, versions in semver order (others and
// "" after, by text).
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for v, n := range m {
		out = append(out, Count{Value: v, Shoots: n})
	}
	slices.SortFunc(out, func(a, b Count) int { return compareVersions(a.Value, b.Value) })
	return out
}

func compareVersions(a, b string) int {
	va, ea := semver.StrictNewVersion(a)
	vb, eb := semver.StrictNewVersion(b)
	switch {
	case ea == nil && eb == nil:
		return va.Compare(vb)
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedBy[T any](items []T, key func(T) string) []T {
	out := slices.Clone(items)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return out
}
