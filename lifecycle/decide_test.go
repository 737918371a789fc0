package lifecycle

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/internal/sharedtest"
)

// profileYAML renders a profile from specs "VERSION CLASSIFICATION
// [EXPIRATION]".
func profileYAML(specs ...string) string {
	var images, versions strings.Builder
	for _, s := range specs {
		f := strings.Fields(s)
		fmt.Fprintf(&images, "    - {version: %s, repository: falcosecurity/falco, tag: %s}\n", f[0], f[0])
		exp := ""
		if len(f) > 2 {
			exp = fmt.Sprintf(", expirationDate: %q", f[2])
		}
		fmt.Fprintf(&versions, "    - {version: %s, classification: %s%s, rulesVersion: 5.0.0}\n", f[0], f[1], exp)
	}
	y := header + "spec:\n  images:\n    falco:\n" + images.String() + "  versions:\n    falco:\n" + versions.String()
	if len(specs) == 0 {
		y = header + "spec:\n  images:\n    falco: []\n  versions:\n    falco: []\n"
	}
	return y
}

// buildProfile loads a profile from specs through Load.
func buildProfile(t *testing.T, specs ...string) *Profile {
	t.Helper()
	p, err := LoadFile(sharedtest.WriteFile(t, t.TempDir(), "p.yaml", profileYAML(specs...)))
	require.NoError(t, err, profileYAML(specs...))
	return p
}

// gardenerAtB728 is Gardener's profile at b728b8e as far as decisions go:
// 0.43.0 deprecated above the highest supported 0.42.1, 0.44.1 preview.
var gardenerAtB728 = []string{
	"0.41.3 deprecated 2027-02-28T23:59:59Z",
	"0.42.1 supported",
	"0.43.0 deprecated 2027-06-30T23:59:59Z",
	"0.44.1 preview",
}

func TestResolve(t *testing.T) {
	const t0 = "2026-11-25T00:00:00Z"
	type want struct {
		version   string
		reason    string
		downgrade bool
		err       error
	}
	cases := []struct {
		name    string
		profile []string
		current string
		auto    bool
		at      string
		want    want
	}{
		// D1: auto-update never moves down.
		{"D1 deprecated above highest supported stays", gardenerAtB728, "0.43.0", true, t0, want{"0.43.0", ReasonUnchanged, false, nil}},
		{"D1 preview stays", gardenerAtB728, "0.44.1", true, t0, want{"0.44.1", ReasonUnchanged, false, nil}},
		{"auto-update up to highest supported", gardenerAtB728, "0.41.3", true, t0, want{"0.42.1", ReasonAutoUpdate, false, nil}},
		{"auto-update on highest supported", gardenerAtB728, "0.42.1", true, t0, want{"0.42.1", ReasonUnchanged, false, nil}},
		{"pinned stays", gardenerAtB728, "0.41.3", false, t0, want{"0.41.3", ReasonUnchanged, false, nil}},
		{"pinned preview stays", gardenerAtB728, "0.44.1", false, t0, want{"0.44.1", ReasonUnchanged, false, nil}},
		// Expiry at the instant: valid at E, expired after E.
		{"exactly at the expiry instant: still valid", gardenerAtB728, "0.41.3", false, "2027-02-28T23:59:59Z", want{"0.41.3", ReasonUnchanged, false, nil}},
		{"one nanosecond after expiry: forced", gardenerAtB728, "0.41.3", false, "2027-02-28T23:59:59.000000001Z", want{"0.42.1", ReasonForcedExpired, false, nil}},
		{"one second after expiry: forced to next", gardenerAtB728, "0.41.3", false, "2027-03-01T00:00:00Z", want{"0.42.1", ReasonForcedExpired, false, nil}},
		{"forced even with auto-update", gardenerAtB728, "0.41.3", true, "2027-03-01T00:00:00Z", want{"0.42.1", ReasonForcedExpired, false, nil}},
		// Time zones: instants compare, not wall clocks.
		{"+02:00 expiry, Z at the instant", []string{"0.41.0 deprecated 2027-03-01T01:59:59+02:00", "0.42.0 supported"}, "0.41.0", false, "2027-02-28T23:59:59Z", want{"0.41.0", ReasonUnchanged, false, nil}},
		{"+02:00 expiry, Z one second later", []string{"0.41.0 deprecated 2027-03-01T01:59:59+02:00", "0.42.0 supported"}, "0.41.0", false, "2027-03-01T00:00:00Z", want{"0.42.0", ReasonForcedExpired, false, nil}},
		{"Z expiry, +02:00 at the instant", []string{"0.41.0 deprecated 2027-02-28T23:59:59Z", "0.42.0 supported"}, "0.41.0", false, "2027-03-01T01:59:59+02:00", want{"0.41.0", ReasonUnchanged, false, nil}},
		{"Z expiry, +02:00 later", []string{"0.41.0 deprecated 2027-02-28T23:59:59Z", "0.42.0 supported"}, "0.41.0", false, "2027-03-01T02:00:00+02:00", want{"0.42.0", ReasonForcedExpired, false, nil}},
		{"-05:00 expiry is later than the same wall clock in Z", []string{"0.41.0 deprecated 2027-02-28T23:59:59-05:00", "0.42.0 supported"}, "0.41.0", false, "2027-03-01T03:00:00Z", want{"0.41.0", ReasonUnchanged, false, nil}},
		// D2: removed versions.
		{"D2 removed 0.44.0: preview not a target, downgrade to 0.43.0", []string{"0.42.1 supported", "0.43.0 deprecated 2027-06-30T23:59:59Z", "0.44.1 preview"}, "0.44.0", false, t0, want{"0.43.0", ReasonForcedRemoved, true, nil}},
		{"removed below all: next, not newest", gardenerAtB728, "0.40.0", false, t0, want{"0.41.3", ReasonForcedRemoved, false, nil}},
		{"removed between: next above", gardenerAtB728, "0.42.0", true, t0, want{"0.42.1", ReasonForcedRemoved, false, nil}},
		{"removed above all: downgrade to highest non-preview", gardenerAtB728, "0.50.0", false, t0, want{"0.43.0", ReasonForcedRemoved, true, nil}},
		{"removed from an empty profile", nil, "0.42.1", false, t0, want{err: ErrNoCandidate}},
		// Forced targets skip expired and preview versions.
		{"forced skips expired above", []string{"0.40.0 deprecated 2026-01-01T00:00:00Z", "0.41.0 deprecated 2026-06-01T00:00:00Z", "0.42.0 supported"}, "0.40.0", false, t0, want{"0.42.0", ReasonForcedExpired, false, nil}},
		{"forced skips preview above", []string{"0.41.0 deprecated 2026-01-01T00:00:00Z", "0.42.0 preview", "0.43.0 supported"}, "0.41.0", false, t0, want{"0.43.0", ReasonForcedExpired, false, nil}},
		{"forced to a deprecated version above", []string{"0.41.0 deprecated 2026-01-01T00:00:00Z", "0.42.0 deprecated 2027-01-01T00:00:00Z", "0.43.0 supported"}, "0.41.0", false, t0, want{"0.42.0", ReasonForcedExpired, false, nil}},
		{"only preview above: downgrade", []string{"0.40.0 supported", "0.41.0 deprecated 2026-01-01T00:00:00Z", "0.42.0 preview"}, "0.41.0", false, t0, want{"0.40.0", ReasonForcedExpired, true, nil}},
		{"expired preview current moves up", []string{"0.42.0 supported", "0.43.0 preview 2026-01-01T00:00:00Z", "0.44.0 supported"}, "0.43.0", false, t0, want{"0.44.0", ReasonForcedExpired, false, nil}},
		{"expired supported current is forced too", []string{"0.42.0 supported 2026-01-01T00:00:00Z", "0.43.0 supported"}, "0.42.0", false, t0, want{"0.43.0", ReasonForcedExpired, false, nil}},
		{"all expired", []string{"0.41.0 deprecated 2026-01-01T00:00:00Z", "0.42.0 supported 2026-02-01T00:00:00Z"}, "0.41.0", true, t0, want{err: ErrNoCandidate}},
		{"only preview left", []string{"0.41.0 deprecated 2026-01-01T00:00:00Z", "0.42.0 preview"}, "0.41.0", false, t0, want{err: ErrNoCandidate}},
		// No supported version: nothing to auto-update to, but no error.
		{"none supported, pinned", []string{"0.41.0 deprecated 2027-01-01T00:00:00Z", "0.42.0 preview"}, "0.41.0", false, t0, want{"0.41.0", ReasonUnchanged, false, nil}},
		{"none supported, auto-update", []string{"0.41.0 deprecated 2027-01-01T00:00:00Z", "0.42.0 preview"}, "0.41.0", true, t0, want{"0.41.0", ReasonUnchanged, false, nil}},
		// Several supported versions: auto-update goes to the highest.
		{"several supported: highest, not next", []string{"0.40.0 supported", "0.41.0 supported", "0.42.0 supported"}, "0.40.0", true, t0, want{"0.42.0", ReasonAutoUpdate, false, nil}},
		{"several supported: pinned stays", []string{"0.40.0 supported", "0.41.0 supported", "0.42.0 supported"}, "0.41.0", false, t0, want{"0.41.0", ReasonUnchanged, false, nil}},
		{"auto-update ignores a higher deprecated", []string{"0.41.0 deprecated 2027-01-01T00:00:00Z", "0.42.0 supported", "0.43.0 deprecated 2027-01-01T00:00:00Z"}, "0.41.0", true, t0, want{"0.42.0", ReasonAutoUpdate, false, nil}},
		{"auto-update ignores an expired supported", []string{"0.41.0 deprecated 2027-01-01T00:00:00Z", "0.42.0 supported", "0.43.0 supported 2026-01-01T00:00:00Z"}, "0.41.0", true, t0, want{"0.42.0", ReasonAutoUpdate, false, nil}},
		{"auto-update target valid exactly at its expiry", []string{"0.41.0 supported", "0.42.0 supported 2026-11-25T00:00:00Z"}, "0.41.0", true, t0, want{"0.42.0", ReasonAutoUpdate, false, nil}},
		{"auto-update target just expired: stays", []string{"0.41.0 supported", "0.42.0 supported 2026-11-24T23:59:59Z"}, "0.41.0", true, t0, want{"0.41.0", ReasonUnchanged, false, nil}},
		{"auto-update never moves a newer supported current down", []string{"0.41.0 supported", "0.42.0 supported 2026-01-01T00:00:00Z", "0.43.0 supported"}, "0.43.0", true, t0, want{"0.43.0", ReasonUnchanged, false, nil}},
		{"semver order, not string order", []string{"0.9.0 deprecated 2026-01-01T00:00:00Z", "0.10.0 supported", "0.100.0 supported"}, "0.9.0", false, t0, want{"0.10.0", ReasonForcedExpired, false, nil}},
		// Bad input.
		{"current not semver", gardenerAtB728, "0.42", false, t0, want{err: ErrBadVersion}},
		{"current with v prefix", gardenerAtB728, "v0.42.1", true, t0, want{err: ErrBadVersion}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := buildProfile(t, c.profile...)
			d, err := Resolve(p, c.current, c.auto, mustTime(t, c.at))
			if c.want.err != nil {
				require.ErrorIs(t, err, c.want.err, "Resolve = %+v", d)
				return
			}
			require.NoError(t, err, "Resolve")
			assert.Equal(t, want{c.want.version, c.want.reason, c.want.downgrade, nil}, want{d.Version, d.Reason, d.Downgrade, nil})
			assert.NotEmpty(t, d.Explanation, "no explanation")
			if d.Downgrade {
				assert.Contains(t, d.Explanation, "downgrad", "a downgrade must say so")
			}
		})
	}
	require.GreaterOrEqual(t, len(cases), 30)
}

func TestDecideDefaultVersion(t *testing.T) {
	cases := []struct {
		name    string
		profile []string
		at      string
		want    string
		err     error
	}{
		{"gardener b728b8e: highest supported, not the newer deprecated or preview", gardenerAtB728, "2026-11-25T00:00:00Z", "0.42.1", nil},
		{"several supported", []string{"0.41.0 supported", "0.43.0 supported", "0.42.0 supported"}, "2026-11-25T00:00:00Z", "0.43.0", nil},
		{"highest supported expired", []string{"0.42.0 supported", "0.43.0 supported 2026-01-01T00:00:00Z"}, "2026-11-25T00:00:00Z", "0.42.0", nil},
		{"exactly at expiry", []string{"0.42.0 supported", "0.43.0 supported 2026-11-25T02:00:00+02:00"}, "2026-11-25T00:00:00Z", "0.43.0", nil},
		{"none supported", []string{"0.42.0 deprecated", "0.43.0 preview"}, "2026-11-25T00:00:00Z", "", ErrNoCandidate},
		{"all supported expired", []string{"0.42.0 supported 2026-01-01T00:00:00Z"}, "2026-11-25T00:00:00Z", "", ErrNoCandidate},
		{"empty", nil, "2026-11-25T00:00:00Z", "", ErrNoCandidate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DefaultVersion(buildProfile(t, c.profile...), mustTime(t, c.at))
			if c.err != nil {
				assert.ErrorIs(t, err, c.err)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, c.want, got)
		})
	}
}

// D4 (random winner on merge) and D5 (bad date = never expires) are loader
// defects; the decisions rely on the loader rejecting them.
func TestDecideGardenerLoaderDefects(t *testing.T) {
	t.Run("D5 date without time zone is an error", func(t *testing.T) {
		_, err := LoadFile(sharedtest.WriteFile(t, t.TempDir(), "p.yaml", profileYAML("0.42.0 supported", "0.41.0 deprecated 2026-07-31T23:59:59")))
		require.ErrorIs(t, err, ErrInvalid)
		require.ErrorContains(t, err, "expirationDate")
	})
	t.Run("D4 conflicting merge is an error in both orders", func(t *testing.T) {
		dir := t.TempDir()
		a := sharedtest.WriteFile(t, dir, "a.yaml", profileYAML("0.42.0 supported"))
		b := sharedtest.WriteFile(t, dir, "b.yaml", profileYAML("0.42.0 deprecated"))
		for _, order := range [][]string{{a, b}, {b, a}} {
			_, err := Load(order...)
			assert.ErrorIs(t, err, ErrInvalid, "%v: want a conflict", order)
		}
	})
}

func TestDecideRealProfiles(t *testing.T) {
	at := mustTime(t, "2026-11-25T00:00:00Z")
	p, err := LoadFile("../profiles/falco.yaml")
	require.NoError(t, err)
	v, err := DefaultVersion(p, at)
	if assert.NoError(t, err) {
		assert.Equal(t, "0.43.0", v, "falcops default")
	}
	d, err := Resolve(p, "0.44.1", true, at)
	if assert.NoError(t, err) {
		assert.Equal(t, "0.44.1", d.Version, "preview 0.44.1 with auto-update")
		assert.Equal(t, ReasonUnchanged, d.Reason, "preview 0.44.1 with auto-update")
	}
	g, err := LoadFile(sharedtest.Path(t, gardenerExample))
	require.NoError(t, err)
	for _, v := range g.Versions() {
		d, err := Resolve(g, v.Version, true, at)
		if err != nil {
			continue
		}
		assert.False(t, d.Reason == ReasonAutoUpdate && d.Downgrade, "%s: auto-update downgrade %+v", v.Version, d)
	}
}

func TestDecideValidate(t *testing.T) {
	at := mustTime(t, "2026-11-25T00:00:00Z")
	p := buildProfile(t, "0.40.0 deprecated 2026-01-01T00:00:00Z", "0.41.0 deprecated", "0.42.0 supported", "0.43.0 preview")
	got := map[diag.Severity][]string{}
	for _, f := range Validate(p, at) {
		assert.True(t, f.Line >= 1 && f.File != "", "finding without position: %v", f)
		got[f.Severity] = append(got[f.Severity], f.Message)
	}
	assert.Empty(t, got[diag.Error], "findings: %v", got)
	if assert.Len(t, got[diag.Warning], 1, "findings: %v", got) {
		assert.Contains(t, got[diag.Warning][0], "0.41.0")
	}
	if assert.Len(t, got[diag.Info], 1, "findings: %v", got) {
		assert.Contains(t, got[diag.Info][0], "0.40.0")
	}
	// No supported version left at a later time: an error.
	p = buildProfile(t, "0.42.0 supported 2026-06-01T00:00:00Z", "0.43.0 preview")
	var errs int
	for _, f := range Validate(p, at) {
		if f.Severity == diag.Error {
			errs++
			assert.GreaterOrEqual(t, f.Line, 1, "error without line: %v", f)
		}
	}
	assert.Equal(t, 1, errs, "errors: %v", Validate(p, at))
	assert.Empty(t, Validate(p, mustTime(t, "2026-06-01T00:00:00Z")), "valid at its expiry instant")
}
