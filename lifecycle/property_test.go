package lifecycle

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/require"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
)

// randomProfile returns specs for buildProfile: 0 to 6 distinct versions
// with random classifications and expiry dates around base.
func randomProfile(r *rand.Rand, base time.Time) []string {
	seen := map[string]bool{}
	var specs []string
	for n := r.Intn(7); len(specs) < n; {
		v := randomVersion(r)
		if seen[v] {
			continue
		}
		seen[v] = true
		c := []string{"preview", "supported", "deprecated"}[r.Intn(3)]
		spec := v + " " + c
		if r.Intn(3) > 0 {
			spec += " " + randomTime(r, base).Format(time.RFC3339)
		}
		specs = append(specs, spec)
	}
	return specs
}

func randomVersion(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d", r.Intn(2), 38+r.Intn(9), r.Intn(3))
}

// randomTime is base ± 100 days, sometimes with a non-UTC offset.
func randomTime(r *rand.Rand, base time.Time) time.Time {
	t := base.Add(time.Duration(r.Intn(200*24)-100*24) * time.Hour)
	if r.Intn(2) == 0 {
		t = t.In(time.FixedZone("", (r.Intn(27)-12)*3600))
	}
	return t
}

// TestResolveProperties checks Resolve's invariants on random profiles,
// current versions and times (fixed seeds, reproducible).
func TestResolveProperties(t *testing.T) {
	base := mustTime(t, "2026-11-25T00:00:00Z")
	iterations := 1500
	if testing.Short() {
		iterations = 200
	}
	for _, seed := range []int64{1, 2} {
		r := rand.New(rand.NewSource(seed))
		for i := range iterations {
			specs := randomProfile(r, base)
			p := buildProfile(t, specs...)
			at := randomTime(r, base)
			// Exactly at an expiry instant now and then.
			if vs := p.Versions(); len(vs) > 0 && r.Intn(5) == 0 {
				if e := vs[r.Intn(len(vs))].Expires; e != nil {
					at = *e
				}
			}
			current := randomVersion(r)
			if vs := p.Versions(); len(vs) > 0 && r.Intn(4) > 0 {
				current = vs[r.Intn(len(vs))].Version
			}
			auto := r.Intn(2) == 0
			require.NoError(t, checkResolve(p, current, auto, at), "seed %d iteration %d: Resolve(%s, auto=%v, at=%s) on %q", seed, i, current, auto, at.Format(time.RFC3339Nano), specs)
			require.NoError(t, checkDefault(p, at), "seed %d iteration %d: DefaultVersion(at=%s) on %q", seed, i, at.Format(time.RFC3339Nano), specs)
		}
	}
}

// target reports whether v may be an automatic target at at.
func target(v Version, at time.Time) bool {
	return v.Classification != profilev1alpha1.ClassificationPreview && !v.Expired(at)
}

func checkResolve(p *Profile, current string, auto bool, at time.Time) error {
	d, err := Resolve(p, current, auto, at)
	d2, err2 := Resolve(p, current, auto, at)
	if d != d2 || (err == nil) != (err2 == nil) {
		return fmt.Errorf("not deterministic: %+v, %w vs %+v, %w", d, err, d2, err2)
	}
	cur := semver.MustParse(current)
	cv, inProfile := p.Version(current)
	valid := inProfile == nil && !cv.Expired(at)
	var higher, other bool // a target above current / any target but current
	for _, v := range p.Versions() {
		if target(v, at) && v.Version != current {
			other = true
			higher = higher || semver.MustParse(v.Version).GreaterThan(cur)
		}
	}
	if err != nil {
		if !errors.Is(err, ErrNoCandidate) || valid || other {
			return fmt.Errorf("unexpected error %w (valid=%v, other targets=%v)", err, valid, other)
		}
		return nil
	}
	got, gerr := p.Version(d.Version)
	if gerr != nil {
		return fmt.Errorf("result %s not in the profile", d.Version)
	}
	if got.Expired(at) {
		return fmt.Errorf("result %s is expired", d.Version)
	}
	gv := semver.MustParse(d.Version)
	if d.Downgrade != gv.LessThan(cur) {
		return fmt.Errorf("downgrade=%v for %s -> %s", d.Downgrade, current, d.Version)
	}
	switch d.Reason {
	case ReasonUnchanged:
		if d.Version != current || !valid {
			return fmt.Errorf("unchanged to %s from invalid or different %s", d.Version, current)
		}
	case ReasonAutoUpdate:
		if !auto || !valid || !gv.GreaterThan(cur) || got.Classification != profilev1alpha1.ClassificationSupported {
			return fmt.Errorf("bad auto-update %s -> %s (%s)", current, d.Version, got.Classification)
		}
		if dv, _ := DefaultVersion(p, at); dv != d.Version {
			return fmt.Errorf("auto-update to %s, not the default %s", d.Version, dv)
		}
	case ReasonForcedExpired, ReasonForcedRemoved:
		if valid || (d.Reason == ReasonForcedRemoved) != (inProfile != nil) {
			return fmt.Errorf("%s for a valid or mislabelled current %s", d.Reason, current)
		}
		if !target(got, at) {
			return fmt.Errorf("forced to preview or expired %s", d.Version)
		}
		if d.Downgrade && higher {
			return fmt.Errorf("downgrade to %s although a higher target exists", d.Version)
		}
		// The lowest target above current.
		for _, v := range p.Versions() {
			sv := semver.MustParse(v.Version)
			if target(v, at) && sv.GreaterThan(cur) && sv.LessThan(gv) {
				return fmt.Errorf("forced to %s, but %s is nearer", d.Version, v.Version)
			}
		}
	default:
		return fmt.Errorf("unknown reason %q", d.Reason)
	}
	if gv.LessThan(cur) && (d.Reason == ReasonUnchanged || d.Reason == ReasonAutoUpdate || higher) {
		return fmt.Errorf("moved down %s -> %s (%s)", current, d.Version, d.Reason)
	}
	return nil
}

func checkDefault(p *Profile, at time.Time) error {
	v, err := DefaultVersion(p, at)
	var best string
	for _, c := range p.Versions() {
		if c.Classification == profilev1alpha1.ClassificationSupported && !c.Expired(at) {
			best = c.Version // lowest first, so the last wins
		}
	}
	if best == "" {
		if !errors.Is(err, ErrNoCandidate) {
			return fmt.Errorf("want ErrNoCandidate, got %q, %w", v, err)
		}
		return nil
	}
	if err != nil || v != best {
		return fmt.Errorf("got %q, %w; want %s", v, err, best)
	}
	return nil
}
