package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/shoot"
	"github.com/falcops/falcops/lifecycle"
)

// Blocked is a decision that cannot be carried out until the profile or a
// RuleSource changes; the shoot keeps what it runs.
type Blocked struct {
	// Reason is a condition reason (DowngradeBlocked, NoCompatibleRuleset).
	Reason  string
	Message string
}

func (b *Blocked) Error() string { return b.Message }

// Input is everything a decision depends on.
type Input struct {
	Falco   *shoot.Falco
	Profile *lifecycle.Profile
	// Sources are the RuleSources by ruleset name. A standard ruleset
	// without a RuleSource is not managed by falcops and gets no pin.
	Sources map[string]*falcopsv1alpha1.RuleSource
	Now     time.Time
	// AllowDowngrade lets a forced update move to a lower version when no
	// higher one is left; without it such a shoot is blocked.
	AllowDowngrade bool
}

// Plan is the decision for one shoot.
type Plan struct {
	// Version is the target Falco version.
	Version string
	// Pins are the target pins, in rules.standard order.
	Pins []servicev1alpha1.PinnedRuleset
	// Reason is AutoUpdate, ForcedExpired, ForcedRemoved, RulesetUpdate
	// (only pins change) or UpToDate.
	Reason string
	// Message explains the Falco version decision.
	Message string
	// Forced is true for expired or removed versions: they move at once.
	Forced bool
	// Changed is true when the target differs from what the shoot runs.
	Changed bool
}

// Compute decides. A *Blocked error means the shoot must stay as it is.
func Compute(in Input) (Plan, error) {
	f := in.Falco
	var p Plan
	if f.Version == "" {
		v, err := lifecycle.DefaultVersion(in.Profile, in.Now)
		if err != nil {
			return Plan{}, &Blocked{Reason: falcopsv1alpha1.ReasonNoProfile, Message: err.Error()}
		}
		p.Version, p.Reason = v, falcopsv1alpha1.ReasonAutoUpdate
		p.Message = fmt.Sprintf("no falcoVersion set; %s is the default", v)
	} else {
		d, err := lifecycle.Resolve(in.Profile, f.Version, f.AutoUpdate, in.Now)
		switch {
		case errors.Is(err, lifecycle.ErrNoCandidate):
			return Plan{}, &Blocked{Reason: falcopsv1alpha1.ReasonDowngradeBlocked, Message: err.Error()}
		case err != nil:
			return Plan{}, &Blocked{Reason: falcopsv1alpha1.ReasonInvalidProviderConfig, Message: err.Error()}
		}
		if d.Downgrade && !in.AllowDowngrade {
			return Plan{}, &Blocked{Reason: falcopsv1alpha1.ReasonDowngradeBlocked, Message: fmt.Sprintf(
				"%s; the only candidate %s is lower and downgrades are not allowed (--allow-forced-downgrade)", d.Explanation, d.Version)}
		}
		p.Version, p.Message = d.Version, d.Explanation
		switch d.Reason {
		case lifecycle.ReasonForcedExpired:
			p.Reason, p.Forced = falcopsv1alpha1.ReasonForcedExpired, true
		case lifecycle.ReasonForcedRemoved:
			p.Reason, p.Forced = falcopsv1alpha1.ReasonForcedRemoved, true
		case lifecycle.ReasonAutoUpdate:
			p.Reason = falcopsv1alpha1.ReasonAutoUpdate
		default:
			p.Reason = falcopsv1alpha1.ReasonUpToDate
		}
	}
	pins, err := choosePins(in, p.Version)
	if err != nil {
		return Plan{}, err
	}
	p.Pins = pins
	p.Changed = p.Version != f.Version || !slices.Equal(p.Pins, f.Pins)
	if p.Changed && p.Reason == falcopsv1alpha1.ReasonUpToDate {
		p.Reason = falcopsv1alpha1.ReasonRulesetUpdate
		p.Message = "a newer verified ruleset version is compatible with Falco " + p.Version
	}
	return p, nil
}

// choosePins picks, per standard ruleset with a RuleSource, the newest
// verified version the engine of Falco version satisfies. A pin moves down
// only when the inputs say so (a Falco version with an older engine, or an
// operator pointing the RuleSource at an older line); the event and the
// ShootRollout name both versions.
func choosePins(in Input, version string) ([]servicev1alpha1.PinnedRuleset, error) {
	var pins []servicev1alpha1.PinnedRuleset
	var engine *semver.Version
	for _, name := range in.Falco.Standard {
		src := in.Sources[name]
		if src == nil {
			continue
		}
		if engine == nil {
			e, err := in.Profile.EngineVersion(version)
			if err != nil {
				return nil, &Blocked{Reason: falcopsv1alpha1.ReasonNoCompatibleRuleset, Message: err.Error()}
			}
			if engine, err = semver.StrictNewVersion(e); err != nil {
				return nil, &Blocked{Reason: falcopsv1alpha1.ReasonNoCompatibleRuleset, Message: fmt.Sprintf("engine version %q of Falco %s: %v", e, version, err)}
			}
		}
		var best *falcopsv1alpha1.RulesetVersion
		var bestV *semver.Version
		for i := range src.Status.Versions {
			rv := &src.Status.Versions[i]
			v, err := semver.StrictNewVersion(rv.Version)
			if err != nil || !satisfies(engine, rv.EngineVersion) {
				continue
			}
			if bestV == nil || v.GreaterThan(bestV) {
				best, bestV = rv, v
			}
		}
		if best == nil {
			return nil, &Blocked{Reason: falcopsv1alpha1.ReasonNoCompatibleRuleset, Message: fmt.Sprintf(
				"no verified %s version in RuleSource %s is compatible with Falco %s (engine %s)", name, src.Name, version, engine)}
		}
		pins = append(pins, servicev1alpha1.PinnedRuleset{Name: name, Version: best.Version, Ref: ref(src, best)})
	}
	return pins, nil
}

// satisfies reports whether engine meets a minimum engine version ("" =
// no requirement).
func satisfies(engine *semver.Version, minimum string) bool {
	if minimum == "" {
		return true
	}
	m, err := semver.StrictNewVersion(minimum)
	return err == nil && !engine.LessThan(m)
}

func ref(src *falcopsv1alpha1.RuleSource, v *falcopsv1alpha1.RulesetVersion) string {
	return strings.TrimSuffix(src.Spec.Repository, "/") + "@" + v.Digest
}

// Describe says what changes, for events: "Falco 0.42.1 -> 0.43.0,
// falco-rules 5.0.0 -> 5.1.0 (sha256:...)".
func Describe(f *shoot.Falco, p Plan) string {
	var parts []string
	if p.Version != f.Version {
		parts = append(parts, fmt.Sprintf("Falco %s -> %s", or(f.Version, "(none)"), p.Version))
	}
	for _, pin := range p.Pins {
		cur, ok := f.Pin(pin.Name)
		if ok && cur == pin {
			continue
		}
		_, dgst, _ := strings.Cut(pin.Ref, "@")
		parts = append(parts, fmt.Sprintf("%s %s -> %s (%s)", pin.Name, or(cur.Version, "(unpinned)"), pin.Version, dgst))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
