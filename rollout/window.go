package rollout

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// windowLayout is Gardener's maintenance time format in Go's notation: HHMMSS
// followed by a numeric UTC offset ±HHMM, such as 220000+0100.
const windowLayout = "150405-0700"

// windowFormat is windowLayout as users read it, for error messages.
const windowFormat = "HHMMSS+HHMM (such as 220000+0100)"

const day = 24 * time.Hour

// Window is a daily maintenance time window.
//
// Semantics, compared with Gardener's timewindow package:
//   - begin and end are converted to UTC, each with its own offset, so a
//     window may wrap midnight in UTC or in local time (22:00-01:00). The
//     offsets are fixed: the window does not follow daylight saving time
//     (neither does Gardener's).
//   - the window is [begin, end): begin is inside, end is not. Gardener
//     counts the end second as inside.
//   - begin equal to end is the whole day. Gardener reads it as the single
//     second at begin (and its API validation rejects windows shorter than
//     30 minutes anyway).
//   - no trim. Gardener's maintenance controllers use an effective window
//     with 15 minutes cut off the end, so that work started late still
//     finishes inside the window. falcops starts a change only when the
//     time is inside the window, and the change is a single patch of the
//     Shoot, which is instantaneous; the rollout that follows is Gardener's
//     reconcile, as for any other Shoot change. So the window is used
//     exactly as the user wrote it.
//   - a missing window (begin and end both empty) is always open, as in
//     Gardener. An unparsable one is an error here; the caller decides
//     (Gardener silently treats it as always open).
//
// The zero Window is AlwaysOpen. Windows are comparable with ==.
type Window struct {
	set        bool      // false: AlwaysOpen
	begin, end windowEnd // as written, for String
	// start is begin as a UTC time of day, in [0, 24h); length is in
	// (0, 24h], 24h when begin equals end.
	start, length time.Duration
}

// windowEnd is one end of a window: a time of day with its UTC offset, as
// written in the Shoot.
type windowEnd struct {
	hour, minute, second int
	offset               int // seconds east of UTC
}

// AlwaysOpen returns the window that is always open (Gardener's meaning of a
// missing window). It is the zero Window.
func AlwaysOpen() Window { return Window{} }

// ParseWindow parses a maintenance time window. Both begin and end empty
// is AlwaysOpen. Otherwise both must be in the format HHMMSS+HHMM; the
// error names the bad value and the expected format.
func ParseWindow(begin, end string) (Window, error) {
	if begin == "" && end == "" {
		return AlwaysOpen(), nil
	}
	b, err := parseWindowEnd("begin", begin)
	if err != nil {
		return Window{}, err
	}
	e, err := parseWindowEnd("end", end)
	if err != nil {
		return Window{}, err
	}
	start := b.utc()
	length := (e.utc() - start + day) % day
	if length == 0 {
		length = day
	}
	return Window{set: true, begin: b, end: e, start: start, length: length}, nil
}

// parseWindowEnd parses one end of the window; which is "begin" or "end".
func parseWindowEnd(which, s string) (windowEnd, error) {
	if !wellFormed(s) {
		return windowEnd{}, fmt.Errorf("maintenance time window %s %q is not in the format %s", which, s, windowFormat)
	}
	// time.Parse checks the ranges, as Gardener's parser does.
	t, err := time.Parse(windowLayout, s)
	if err != nil {
		reason := "out of range"
		var pe *time.ParseError
		if errors.As(err, &pe) && pe.Message != "" {
			reason = strings.TrimPrefix(pe.Message, ": ")
		}
		return windowEnd{}, fmt.Errorf("maintenance time window %s %q is not in the format %s: %s", which, s, windowFormat, reason)
	}
	h, m, sec := t.Clock()
	_, off := t.Zone()
	return windowEnd{hour: h, minute: m, second: sec, offset: off}, nil
}

// wellFormed reports whether s is six digits, a sign and four digits.
// time.Parse alone would accept some one-digit fields.
func wellFormed(s string) bool {
	if len(s) != len("220000+0100") || (s[6] != '+' && s[6] != '-') {
		return false
	}
	for i, c := range []byte(s) {
		if i != 6 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// utc returns c as a UTC time of day, in [0, 24h).
func (c windowEnd) utc() time.Duration {
	d := time.Duration(c.hour)*time.Hour + time.Duration(c.minute)*time.Minute +
		time.Duration(c.second)*time.Second - time.Duration(c.offset)*time.Second
	return (d%day + day) % day
}

// timeOfDay returns t's UTC time of day, in [0, 24h).
func timeOfDay(t time.Time) time.Duration {
	u := t.UTC()
	h, m, s := u.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(u.Nanosecond())
}

// sinceBegin returns how long ago the window last began, in [0, 24h).
func (w Window) sinceBegin(t time.Time) time.Duration {
	return (timeOfDay(t) - w.start + day) % day
}

// Contains reports whether t is inside the window, whatever t's location.
func (w Window) Contains(t time.Time) bool {
	if !w.set {
		return true
	}
	return w.sinceBegin(t) < w.length
}

// Next returns 0 if t is inside the window, else the time from t until the
// window next begins (less than 24h).
func (w Window) Next(t time.Time) time.Duration {
	if w.Contains(t) {
		return 0
	}
	return day - w.sinceBegin(t)
}

// String describes the window for messages: "22:00-23:00 +01:00",
// "22:00 +01:00-00:30 +02:00" when the offsets differ, seconds only when
// they are not zero, "(all day)" when begin equals end, and "always" for
// AlwaysOpen.
func (w Window) String() string {
	if !w.set {
		return "always"
	}
	var s string
	if w.begin.offset == w.end.offset {
		s = w.begin.time() + "-" + w.end.time() + " " + w.begin.zone()
	} else {
		s = w.begin.time() + " " + w.begin.zone() + "-" + w.end.time() + " " + w.end.zone()
	}
	if w.length == day {
		s += " (all day)"
	}
	return s
}

func (c windowEnd) time() string {
	if c.second != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", c.hour, c.minute, c.second)
	}
	return fmt.Sprintf("%02d:%02d", c.hour, c.minute)
}

func (c windowEnd) zone() string {
	sign, off := '+', c.offset
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}
