package lifecycle

import (
	"errors"
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	"github.com/falcops/falcops/diag"
)

// Decision functions. They are pure: the profile and the evaluation time are
// parameters, nothing reads the clock.
//
// Expiry instant: a version with expirationDate E is still valid at E and
// expired at every instant after it (Version.Expired: at.After(E)). This is
// the rule Profile.Expired and `falcops profile matrix` use, so all code
// paths agree (Gardener's three paths disagree, §4.2), and it matches how
// profiles write dates: "2026-07-31T23:59:59Z" means "through July 31st".
// Instants are compared as instants, so "2026-08-01T01:59:59+02:00" and
// "2026-07-31T23:59:59Z" are the same deadline.

// Reasons of a Decision.
const (
	// ReasonUnchanged: the version stays.
	ReasonUnchanged = "unchanged"
	// ReasonAutoUpdate: auto-update moves to a higher supported version.
	ReasonAutoUpdate = "auto-update"
	// ReasonForcedExpired: the current version has expired and must move.
	ReasonForcedExpired = "forced-expired"
	// ReasonForcedRemoved: the profile no longer offers the current
	// version, which must move.
	ReasonForcedRemoved = "forced-removed"
)

var (
	// ErrNoCandidate: no version qualifies as a target (no supported
	// version for a default, nothing non-expired and non-preview for a
	// forced update).
	ErrNoCandidate = errors.New("no candidate version")
	// ErrBadVersion: a version given to a decision function is not a
	// semantic version X.Y.Z.
	ErrBadVersion = errors.New("not a semantic version X.Y.Z")
)

// Decision is the outcome of Resolve.
type Decision struct {
	// Version is the version the shoot should run.
	Version string `json:"version"`
	// Reason is one of the Reason* constants.
	Reason string `json:"reason"`
	// Downgrade is true when Version is lower than the current version;
	// only a forced move with nothing higher left downgrades.
	Downgrade bool `json:"downgrade"`
	// Explanation says why, in one sentence.
	Explanation string `json:"explanation,omitempty"`
}

// DefaultVersion returns the version for a new shoot: the highest supported
// version not expired at at. Preview and deprecated versions are never a
// default. ErrNoCandidate when there is none.
func DefaultVersion(p *Profile, at time.Time) (string, error) {
	v, ok := highestSupported(p, at)
	if !ok {
		return "", fmt.Errorf("%w: no supported Falco version is unexpired at %s", ErrNoCandidate, at.Format(time.RFC3339))
	}
	return v.Version, nil
}

// Resolve decides the version a shoot on current should run at at.
//
//   - current expired or no longer in the profile: forced. The target is the
//     lowest non-expired, non-preview version above current (the next one,
//     not the newest); if there is none, the highest non-expired,
//     non-preview version, with Downgrade true; if there is none either,
//     ErrNoCandidate.
//   - else, with autoUpdate: the highest non-expired supported version if it
//     is higher than current, else unchanged. Auto-update never moves down,
//     so a shoot on a preview version or on a deprecated version above the
//     highest supported one stays (Gardener defect D1).
//   - else unchanged.
//
// Preview versions are never an automatic target. ErrBadVersion when
// current is not a semantic version.
func Resolve(p *Profile, current string, autoUpdate bool, at time.Time) (Decision, error) {
	cur, err := semver.StrictNewVersion(current)
	if err != nil {
		return Decision{}, fmt.Errorf("current version %q: %w", current, ErrBadVersion)
	}
	cv, err := p.Version(current)
	switch {
	case err != nil:
		return forced(p, cur, ReasonForcedRemoved, fmt.Sprintf("%s is no longer in the profile", current), at)
	case cv.Expired(at):
		return forced(p, cur, ReasonForcedExpired, fmt.Sprintf("%s expired at %s", current, cv.Expires.Format(time.RFC3339)), at)
	}
	if !autoUpdate {
		return Decision{Version: current, Reason: ReasonUnchanged, Explanation: fmt.Sprintf("%s is valid and auto-update is off", current)}, nil
	}
	best, ok := highestSupported(p, at)
	switch {
	case !ok:
		return Decision{Version: current, Reason: ReasonUnchanged,
			Explanation: fmt.Sprintf("%s is valid and no supported version is an auto-update target", current)}, nil
	case best.semver.GreaterThan(cur):
		return Decision{Version: best.Version, Reason: ReasonAutoUpdate,
			Explanation: fmt.Sprintf("%s is the highest supported version, above %s", best.Version, current)}, nil
	case best.semver.Equal(cur):
		return Decision{Version: current, Reason: ReasonUnchanged,
			Explanation: fmt.Sprintf("%s is the highest supported version", current)}, nil
	default:
		return Decision{Version: current, Reason: ReasonUnchanged,
			Explanation: fmt.Sprintf("%s (%s) is above the highest supported version %s; auto-update never moves down", current, cv.Classification, best.Version)}, nil
	}
}

// forced picks the target of a forced move away from cur.
func forced(p *Profile, cur *semver.Version, reason, why string, at time.Time) (Decision, error) {
	var above, highest *Version
	for i := range p.falco {
		v := &p.falco[i]
		if v.semver == nil || v.Classification == profilev1alpha1.ClassificationPreview || v.Expired(at) || v.semver.Equal(cur) {
			continue
		}
		if v.semver.GreaterThan(cur) && (above == nil || v.semver.LessThan(above.semver)) {
			above = v
		}
		if highest == nil || v.semver.GreaterThan(highest.semver) {
			highest = v
		}
	}
	switch {
	case above != nil:
		return Decision{Version: above.Version, Reason: reason,
			Explanation: fmt.Sprintf("%s; %s is the next non-expired, non-preview version above it", why, above.Version)}, nil
	case highest != nil:
		return Decision{Version: highest.Version, Reason: reason, Downgrade: true,
			Explanation: fmt.Sprintf("%s and no non-expired, non-preview version is above it: downgrading to %s, the highest one left", why, highest.Version)}, nil
	default:
		return Decision{}, fmt.Errorf("%w: %s, and no non-expired, non-preview version is left at %s", ErrNoCandidate, why, at.Format(time.RFC3339))
	}
}

// highestSupported returns the highest supported version not expired at at.
func highestSupported(p *Profile, at time.Time) (Version, bool) {
	for i := len(p.falco) - 1; i >= 0; i-- {
		v := p.falco[i]
		if v.semver != nil && v.Classification == profilev1alpha1.ClassificationSupported && !v.Expired(at) {
			return v, true
		}
	}
	return Version{}, false
}

// Validate checks the lifecycle of the Falco versions at at:
//   - error: no supported version is unexpired, so new shoots get no default;
//   - warning: a deprecated version has no expirationDate (it never expires);
//   - info: a version has expired but is still listed (keep it while shoots
//     use it; removing it forces them off, Gardener defect D2).
func Validate(p *Profile, at time.Time) diag.Findings {
	var fs diag.Findings
	if _, ok := highestSupported(p, at); !ok {
		pos := diag.Position{Line: 1, Column: 1}
		if len(p.falco) > 0 {
			pos = p.falco[0].Source
		}
		fs.Add("", diag.Error, pos, "no supported Falco version is unexpired at %s: new shoots get no default version", at.Format(time.RFC3339))
	}
	for _, v := range p.falco {
		if v.Classification == profilev1alpha1.ClassificationDeprecated && v.Expires == nil {
			fs.Add("", diag.Warning, v.Source, "Falco %s is deprecated without expirationDate: it never expires", v.Version)
		}
		if v.Expired(at) {
			fs.Add("", diag.Info, v.Source, "Falco %s expired at %s and is still listed; shoots on it are forced off at their next maintenance", v.Version, v.Expires.Format(time.RFC3339))
		}
	}
	return fs
}
