package rollout

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/shoot"
)

// Blocked is a decision that cannot be carried out until the profile or a
// RuleSource changes; the shoot keeps what it runs. The controllers map it
// to a stalled condition with its Reason.
type Blocked struct {
	reason string
	// Message explains the block.
	Message string
}

func blocked(reason, format string, args ...any) *Blocked {
	return &Blocked{reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Reason is the condition reason (DowngradeBlocked, NoCompatibleRuleset,
// NoProfile, InvalidProviderConfig).
func (b *Blocked) Reason() string { return b.reason }

func (b *Blocked) Error() string { return b.Message }

// Decision is what one shoot should run.
type Decision struct {
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
	// FirstPin is true when the change only pins selected rulesets that
	// have no pin yet (Reason FirstPin): a first install is not a
	// maintenance change, so it waits for no window and no wave.
	FirstPin bool
	// Changed is true when the target differs from what the shoot runs.
	Changed bool
}

// Target decides what the shoot with Falco config f should run at now.
// allowDowngrade lets a forced update move to a lower version when no
// higher one is left; without it such a shoot is blocked. A *Blocked error
// means the shoot must stay as it is.
func Target(in *Inputs, f *shoot.FalcoConfig, now time.Time, allowDowngrade bool) (Decision, error) {
	var d Decision
	if f.Version == "" {
		v, err := lifecycle.DefaultVersion(in.Profile, now)
		if err != nil {
			return Decision{}, blocked(falcopsv1alpha1.ReasonNoProfile, "%s", err)
		}
		d.Version, d.Reason = v, falcopsv1alpha1.ReasonAutoUpdate
		d.Message = fmt.Sprintf("no falcoVersion set; %s is the default", v)
	} else {
		res, err := lifecycle.Resolve(in.Profile, f.Version, f.AutoUpdate, now)
		switch {
		case errors.Is(err, lifecycle.ErrNoCandidate):
			return Decision{}, blocked(falcopsv1alpha1.ReasonDowngradeBlocked, "%s", err)
		case err != nil:
			return Decision{}, blocked(falcopsv1alpha1.ReasonInvalidProviderConfig, "%s", err)
		}
		if res.Downgrade && !allowDowngrade {
			return Decision{}, blocked(falcopsv1alpha1.ReasonDowngradeBlocked,
				"%s; the only candidate %s is lower and downgrades are not allowed (--allow-forced-downgrade)", res.Explanation, res.Version)
		}
		d.Version, d.Message = res.Version, res.Explanation
		switch res.Reason {
		case lifecycle.ReasonForcedExpired:
			d.Reason, d.Forced = falcopsv1alpha1.ReasonForcedExpired, true
		case lifecycle.ReasonForcedRemoved:
			d.Reason, d.Forced = falcopsv1alpha1.ReasonForcedRemoved, true
		case lifecycle.ReasonAutoUpdate:
			d.Reason = falcopsv1alpha1.ReasonAutoUpdate
		default:
			d.Reason = falcopsv1alpha1.ReasonUpToDate
		}
	}
	if first, ok, err := firstPins(in, f, d); ok || err != nil {
		return first, err
	}
	pins, rolledBack, err := choosePins(in, f, d.Version)
	if err != nil {
		return Decision{}, err
	}
	d.Pins = pins
	d.Changed = d.Version != f.Version || !slices.Equal(d.Pins, f.Pins)
	switch {
	case d.Changed && d.Reason == falcopsv1alpha1.ReasonUpToDate && rolledBack != "":
		d.Reason = falcopsv1alpha1.ReasonRulesetRollback
		d.Message = rolledBack
	case d.Changed && d.Reason == falcopsv1alpha1.ReasonUpToDate:
		d.Reason = falcopsv1alpha1.ReasonRulesetUpdate
		d.Message = "a newer verified ruleset version is compatible with Falco " + d.Version
	}
	return d, nil
}

// firstPins is the decision to pin, at once, the selected rulesets that
// have a RuleSource but no pin yet (until then the extension deploys no
// rules for them), for the Falco version the shoot runs, everything else
// left as it is. ok is false when no pin is missing, or when the decision
// is forced anyway.
func firstPins(in *Inputs, f *shoot.FalcoConfig, d Decision) (Decision, bool, error) {
	if d.Forced || f.Version == "" {
		return Decision{}, false, nil // a new or forced shoot moves at once as a whole
	}
	var missing []string
	for _, name := range in.Rulesets(f) {
		if _, pinned := f.Pin(name); !pinned && in.Sources[name] != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return Decision{}, false, nil
	}
	chosen, _, err := choosePins(in, f, f.Version)
	if err != nil {
		return Decision{}, false, err
	}
	pins := make([]servicev1alpha1.PinnedRuleset, 0, len(chosen))
	for _, p := range chosen {
		if cur, ok := f.Pin(p.Name); ok {
			p = cur
		}
		pins = append(pins, p)
	}
	return Decision{Version: f.Version, Pins: pins, Reason: falcopsv1alpha1.ReasonFirstPin, FirstPin: true, Changed: true,
		Message: fmt.Sprintf("first pin of %s for Falco %s: a first install waits for no maintenance window", strings.Join(missing, ", "), f.Version)}, true, nil
}

// choosePins picks, per standard ruleset with a RuleSource, the newest
// verified version the engine of Falco version satisfies, no higher than
// the RuleSource's spec.rollbackTo. A pin never moves down silently: when
// the shoot keeps its Falco version and runs a higher version of the same
// repository that is no longer listed (tags deleted, a list rebuilt), it
// keeps that pin. It moves down only when the inputs say so: a Falco version
// with an older engine, or spec.rollbackTo (rolledBack then says why).
func choosePins(in *Inputs, f *shoot.FalcoConfig, version string) (pins []servicev1alpha1.PinnedRuleset, rolledBack string, err error) {
	var engine *semver.Version
	fv, _ := in.Profile.Version(version) // unknown: no plugins, nothing filtered
	for _, name := range in.Rulesets(f) {
		src := in.Sources[name]
		if src == nil {
			continue
		}
		if engine == nil {
			e, err := in.Profile.EngineVersion(version)
			if err != nil {
				return nil, "", blocked(falcopsv1alpha1.ReasonNoCompatibleRuleset, "%s", err)
			}
			if engine, err = semver.StrictNewVersion(e); err != nil {
				return nil, "", blocked(falcopsv1alpha1.ReasonNoCompatibleRuleset, "engine version %q of Falco %s: %v", e, version, err)
			}
		}
		limit, _ := semver.StrictNewVersion(src.Spec.RollbackTo) // nil: no limit
		best := newestCompatible(src.Status.Versions, engine, limit, func(rv *falcopsv1alpha1.RulesetVersion) bool {
			return pluginsSatisfy(fv, rv.Dependencies, in.Sources)
		})
		if best == nil {
			return nil, "", blocked(falcopsv1alpha1.ReasonNoCompatibleRuleset,
				"no verified %s version in RuleSource %s is compatible with Falco %s (engine %s%s)", name, src.Name, version, engine, pluginList(fv.Plugins))
		}
		pin := servicev1alpha1.PinnedRuleset{Name: name, Version: best.Version, Ref: ref(src, best)}
		if cur, ok := f.Pin(name); ok && higher(cur.Version, pin.Version) {
			switch {
			case limit != nil && higher(cur.Version, limit.Original()):
				rolledBack = fmt.Sprintf("RuleSource %s rolls %s back to %s (spec.rollbackTo %s)", src.Name, name, pin.Version, limit)
			case version == f.Version && samePrefix(cur.Ref, src.Spec.Repository) && !listed(src.Status.Versions, cur.Digest()):
				pin = cur // no longer listed (tags gone), nothing asks to go down: keep what runs
			}
		}
		pins = append(pins, pin)
	}
	return pins, rolledBack, nil
}

// higher reports whether version a is above b (false when either does
// not parse).
func higher(a, b string) bool {
	va, err := semver.StrictNewVersion(a)
	if err != nil {
		return false
	}
	vb, err := semver.StrictNewVersion(b)
	return err == nil && va.GreaterThan(vb)
}

// listed reports whether the digest is among the versions.
func listed(versions []falcopsv1alpha1.RulesetVersion, digest string) bool {
	return slices.ContainsFunc(versions, func(v falcopsv1alpha1.RulesetVersion) bool { return v.Digest == digest })
}

// samePrefix reports whether a pinned ref is of repository.
func samePrefix(ref, repository string) bool {
	repo, _, _ := strings.Cut(ref, "@")
	return repo == strings.TrimSuffix(repository, "/")
}

// newestCompatible returns the highest version, at most limit (if not
// nil), whose engine requirement engine meets and that ok accepts; nil if
// there is none.
func newestCompatible(versions []falcopsv1alpha1.RulesetVersion, engine, limit *semver.Version, ok func(*falcopsv1alpha1.RulesetVersion) bool) *falcopsv1alpha1.RulesetVersion {
	var best *falcopsv1alpha1.RulesetVersion
	var bestV *semver.Version
	for i := range versions {
		rv := &versions[i]
		v, err := semver.StrictNewVersion(rv.Version)
		if err != nil || !satisfies(engine, rv.EngineVersion) || (limit != nil && v.GreaterThan(limit)) || !ok(rv) {
			continue
		}
		if bestV == nil || v.GreaterThan(bestV) {
			best, bestV = rv, v
		}
	}
	return best
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
func Describe(f *shoot.FalcoConfig, d Decision) string {
	var parts []string
	if d.Version != f.Version {
		parts = append(parts, fmt.Sprintf("Falco %s -> %s", cmp.Or(f.Version, "(none)"), d.Version))
	}
	for _, pin := range d.Pins {
		cur, ok := f.Pin(pin.Name)
		if ok && cur == pin {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s -> %s (%s)", pin.Name, cmp.Or(cur.Version, "(unpinned)"), pin.Version, pin.Digest()))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// pluginsSatisfy reports whether the plugins Falco release fv bundles
// meet a ruleset version's plugin dependencies (lifecycle.Version.Bundles,
// for the plugin or one of its alternatives). A dependency that names a
// ruleset (it has a RuleSource) is no plugin. A release whose profile entry
// lists no plugins is not filtered: nothing is known.
func pluginsSatisfy(fv lifecycle.Version, deps []falcopsv1alpha1.RulesetDependency, rulesets map[string]*falcopsv1alpha1.RuleSource) bool {
	if len(fv.Plugins) == 0 {
		return true
	}
	for _, d := range deps {
		if _, ruleset := rulesets[d.Name]; ruleset {
			continue
		}
		if fv.Bundles(d.Name, d.Version) || slices.ContainsFunc(d.Alternatives, func(a falcopsv1alpha1.DependencyAlternative) bool { return fv.Bundles(a.Name, a.Version) }) {
			continue
		}
		return false
	}
	return true
}

// pluginList is ", plugins a 1.0.0, b 2.0.0" for a block message.
func pluginList(ps []profilev1alpha1.PluginVersion) string {
	if len(ps) == 0 {
		return ""
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Name + " " + p.Version
	}
	return ", plugins " + strings.Join(parts, ", ")
}
