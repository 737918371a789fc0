package rollout

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at parses an RFC 3339 time; the tests use it instead of a clock.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return ts
}

func mustParse(t *testing.T, begin, end string) Window {
	t.Helper()
	w, err := ParseWindow(begin, end)
	require.NoError(t, err, "ParseWindow(%q, %q)", begin, end)
	return w
}

func TestParseWindow(t *testing.T) {
	cases := []struct {
		name, begin, end string
		want             string // String() of the window, or a substring of the error
		wantErr          bool
	}{
		{"Gardener example", "220000+0100", "230000+0100", "22:00-23:00 +01:00", false},
		{"negative offset", "230000-0800", "000000-0800", "23:00-00:00 -08:00", false},
		{"seconds and half-hour offset", "013015+0530", "023000+0530", "01:30:15-02:30 +05:30", false},
		{"different offsets", "220000+0100", "003000+0200", "22:00 +01:00-00:30 +02:00", false},
		{"begin equals end", "100000+0000", "100000+0000", "10:00-10:00 +00:00 (all day)", false},
		{"same instant, different offsets", "100000+0000", "110000+0100", "10:00 +00:00-11:00 +01:00 (all day)", false},
		{"missing", "", "", "always", false},

		{"begin only", "220000+0100", "", `end "" is not in the format HHMMSS+HHMM`, true},
		{"end only", "", "230000+0100", `begin "" is not in the format HHMMSS+HHMM`, true},
		{"clock notation", "22:00", "23:00", `begin "22:00" is not in the format HHMMSS+HHMM`, true},
		{"no seconds", "2200+0100", "2300+0100", `begin "2200+0100" is not in the format`, true},
		{"no offset", "220000", "230000", `begin "220000" is not in the format`, true},
		{"Z offset", "220000Z", "230000Z", `begin "220000Z" is not in the format`, true},
		{"offset with colon", "220000+01:00", "230000+01:00", `begin "220000+01:00" is not in the format`, true},
		{"space", " 220000+0100", "230000+0100", `begin " 220000+0100" is not in the format`, true},
		{"letters", "22h000+0100", "230000+0100", `begin "22h000+0100"`, true},
		{"hour 24", "240000+0000", "010000+0000", `begin "240000+0000" is not in the format HHMMSS+HHMM (such as 220000+0100): hour out of range`, true},
		{"minute 60", "226000+0000", "230000+0000", `minute out of range`, true},
		{"second 60", "220060+0000", "230000+0000", `second out of range`, true},
		{"offset hour 25", "220000+2500", "230000+0000", `begin "220000+2500"`, true},
		{"bad end", "220000+0100", "236100+0100", `end "236100+0100" is not in the format`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := ParseWindow(c.begin, c.end)
			if c.wantErr {
				require.Error(t, err, "ParseWindow(%q, %q) = %s", c.begin, c.end, w)
				assert.Contains(t, err.Error(), c.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, w.String())
		})
	}
}

func TestAlwaysOpen(t *testing.T) {
	w, err := ParseWindow("", "")
	require.NoError(t, err)
	assert.Equal(t, AlwaysOpen(), w)
	assert.Equal(t, Window{}, w, "AlwaysOpen is the zero Window")
	for _, ts := range []string{"2026-11-25T00:00:00Z", "2026-11-25T12:34:56.789+05:30", "2026-12-31T23:59:59.999999999Z"} {
		assert.True(t, w.Contains(at(t, ts)), "Contains(%s)", ts)
		assert.Zero(t, w.Next(at(t, ts)), "Next(%s)", ts)
	}
}

func TestContainsAndNext(t *testing.T) {
	cases := []struct {
		name, begin, end, at string
		in                   bool
		next                 time.Duration
	}{
		// 22:00-23:00 +01:00 is 21:00-22:00 UTC.
		{"inside", "220000+0100", "230000+0100", "2026-11-25T21:30:00Z", true, 0},
		{"at begin", "220000+0100", "230000+0100", "2026-11-25T21:00:00Z", true, 0},
		{"last nanosecond", "220000+0100", "230000+0100", "2026-11-25T21:59:59.999999999Z", true, 0},
		{"at end is outside", "220000+0100", "230000+0100", "2026-11-25T22:00:00Z", false, 23 * time.Hour},
		{"before", "220000+0100", "230000+0100", "2026-11-25T20:00:00Z", false, time.Hour},
		{"just before", "220000+0100", "230000+0100", "2026-11-25T20:59:59.5Z", false, 500 * time.Millisecond},
		{"after, until tomorrow", "220000+0100", "230000+0100", "2026-11-25T23:15:00Z", false, 21*time.Hour + 45*time.Minute},
		{"t in the window's offset", "220000+0100", "230000+0100", "2026-11-25T22:30:00+01:00", true, 0},
		{"t in another offset", "220000+0100", "230000+0100", "2026-11-25T16:30:00-05:00", true, 0},
		{"t in another offset, outside", "220000+0100", "230000+0100", "2026-11-26T08:00:00+09:00", false, 22 * time.Hour},
		{"t's date differs from UTC", "220000+0100", "230000+0100", "2026-11-26T06:30:00+09:30", true, 0},

		// Wrapping midnight: 22:00-01:00.
		{"wraps, late", "220000+0000", "010000+0000", "2026-11-25T23:30:00Z", true, 0},
		{"wraps, at midnight", "220000+0000", "010000+0000", "2026-11-26T00:00:00Z", true, 0},
		{"wraps, early", "220000+0000", "010000+0000", "2026-11-26T00:59:59Z", true, 0},
		{"wraps, at end", "220000+0000", "010000+0000", "2026-11-26T01:00:00Z", false, 21 * time.Hour},
		{"wraps, before", "220000+0000", "010000+0000", "2026-11-25T21:59:59Z", false, time.Second},
		{"wraps, midday", "220000+0000", "010000+0000", "2026-11-25T12:00:00Z", false, 10 * time.Hour},

		// The offset makes a local window wrap in UTC: 00:30-01:30 +02:00 is
		// 22:30-23:30 UTC of the day before.
		{"offset wraps, inside", "003000+0200", "013000+0200", "2026-11-25T22:45:00Z", true, 0},
		{"offset wraps, local t inside", "003000+0200", "013000+0200", "2026-11-26T01:00:00+02:00", true, 0},
		{"offset wraps, after", "003000+0200", "013000+0200", "2026-11-25T23:45:00Z", false, 22*time.Hour + 45*time.Minute},
		// A local window that wraps is a plain UTC one: 23:00-02:00 +03:00 is
		// 20:00-23:00 UTC.
		{"local wrap, UTC plain", "230000+0300", "020000+0300", "2026-11-25T22:59:00Z", true, 0},
		{"local wrap, UTC plain, outside", "230000+0300", "020000+0300", "2026-11-25T23:00:00Z", false, 21 * time.Hour},
		{"negative offset", "230000-0800", "000000-0800", "2026-11-26T07:30:00Z", true, 0},

		// begin and end in different offsets: 22:00 +01:00 to 00:30 +02:00 is
		// 21:00-22:30 UTC.
		{"mixed offsets, inside", "220000+0100", "003000+0200", "2026-11-25T22:15:00Z", true, 0},
		{"mixed offsets, at end", "220000+0100", "003000+0200", "2026-11-25T22:30:00Z", false, 22*time.Hour + 30*time.Minute},

		// begin equal to end is the whole day.
		{"all day", "100000+0000", "100000+0000", "2026-11-25T03:00:00Z", true, 0},
		{"all day, at begin", "100000+0000", "100000+0000", "2026-11-25T10:00:00Z", true, 0},
		{"all day, just before begin", "100000+0000", "100000+0000", "2026-11-25T09:59:59.999999999Z", true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := mustParse(t, c.begin, c.end)
			ts := at(t, c.at)
			assert.Equal(t, c.in, w.Contains(ts), "%s: Contains(%s)", w, c.at)
			assert.Equal(t, c.next, w.Next(ts), "%s: Next(%s)", w, c.at)
		})
	}
}

// TestNextLandsOnBegin walks two days in odd steps and checks that Contains
// and Next agree: outside, Next is positive, less than a day, and leads to
// the first instant inside the window.
func TestNextLandsOnBegin(t *testing.T) {
	windows := [][2]string{
		{"220000+0100", "230000+0100"},
		{"220000+0000", "010000+0000"},
		{"003000+0200", "013000+0200"},
		{"220000+0100", "003000+0200"},
		{"235959-1200", "000001+1400"},
		{"100000+0000", "100000+0000"},
	}
	start := at(t, "2026-03-28T00:00:00Z")
	for _, be := range windows {
		w := mustParse(t, be[0], be[1])
		for ts := start; ts.Before(start.Add(48 * time.Hour)); ts = ts.Add(7*time.Minute + 13*time.Second) {
			next := w.Next(ts)
			require.Equal(t, next == 0, w.Contains(ts), "%s at %s: Contains disagrees with Next = %s", w, ts, next)
			require.True(t, next >= 0 && next < day, "%s at %s: Next = %s, want in [0, 24h)", w, ts, next)
			if next > 0 {
				require.True(t, w.Contains(ts.Add(next)), "%s at %s: not inside after Next = %s", w, ts, next)
				require.False(t, w.Contains(ts.Add(next-time.Nanosecond)), "%s at %s: already inside before Next = %s", w, ts, next)
			}
		}
	}
}
