package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a Falco engine version (x.y.z). Integer engine versions N are
// the same as 0.N.0.
type Version struct{ Major, Minor, Patch uint64 }

// ParseVersion parses "x.y.z" (three dot-separated numbers, as libsinsp does).
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Version{}, fmt.Errorf("%q is not an x.y.z version", s)
	}
	var v [3]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("%q is not an x.y.z version", s)
		}
		v[i] = n
	}
	return Version{v[0], v[1], v[2]}, nil
}

// MustVersion parses a version known to be valid.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// IsZero reports whether v is unset.
func (v Version) IsZero() bool { return v == Version{} }

// Compare returns -1, 0 or 1.
func (v Version) Compare(o Version) int {
	for _, d := range [][2]uint64{{v.Major, o.Major}, {v.Minor, o.Minor}, {v.Patch, o.Patch}} {
		if d[0] < d[1] {
			return -1
		}
		if d[0] > d[1] {
			return 1
		}
	}
	return 0
}

// Less reports whether v < o.
func (v Version) Less(o Version) bool { return v.Compare(o) < 0 }

// Satisfies reports whether an engine of version v loads rules requiring req:
// same major and v >= req (libsinsp compatible_with).
func (v Version) Satisfies(req Version) bool { return v.Major == req.Major && !v.Less(req) }

// Engine versions at which the rules language changed (Falco release in the comment).
var (
	Engine036  = MustVersion("0.26.0") // Falco 0.36
	Engine037  = MustVersion("0.31.0") // Falco 0.37: semver engine versions, override
	Engine038  = MustVersion("0.40.0") // Falco 0.38: iglob, tolower/toupper/b64, val(), name checks
	Engine039  = MustVersion("0.43.0") // Falco 0.39: regex, basename
	Engine040  = MustVersion("0.46.0") // Falco 0.40: len
	Engine041  = MustVersion("0.50.0") // Falco 0.41: container plugin, %container.info deprecated
	Engine042  = MustVersion("0.57.0") // Falco 0.42: capture keys, enter events dropped (evt.dir deprecated)
	Engine043  = MustVersion("0.58.0") // Falco 0.43
	Engine044  = MustVersion("0.62.0") // Falco 0.44: unknown-key warnings, operator modifiers, join/concat/getopt
	EngineNext = MustVersion("0.63.0") // Falco master: evt.num invariants in event-type search

	// LatestEngine is the engine of the latest Falco release; the default when
	// neither the caller nor the rules name one.
	LatestEngine = Engine044
)

// operatorSince is the engine version that introduced each operator that did
// not exist in Falco 0.35.
var operatorSince = map[string]Version{
	"iglob": Engine038,
	"regex": Engine039,
}

// transformerSince is the engine version that introduced each transformer.
var transformerSince = map[string]Version{
	"tolower": Engine038, "toupper": Engine038, "b64": Engine038, "val": Engine038,
	"basename": Engine039,
	"len":      Engine040,
	"join":     Engine044, "concat": Engine044, "getopt": Engine044,
}

// modifierSince is when "startswith oneof (...)" style operators appeared.
var modifierSince = Engine044

// FalcoForEngine names the first Falco release with the given engine version,
// for messages.
func FalcoForEngine(v Version) string {
	switch {
	case !v.Less(EngineNext):
		return "Falco master"
	case !v.Less(Engine044):
		return "Falco 0.44"
	case !v.Less(Engine043):
		return "Falco 0.43"
	case !v.Less(Engine042):
		return "Falco 0.42"
	case !v.Less(Engine041):
		return "Falco 0.41"
	case !v.Less(Engine040):
		return "Falco 0.40"
	case !v.Less(Engine039):
		return "Falco 0.39"
	case !v.Less(Engine038):
		return "Falco 0.38"
	case !v.Less(Engine037):
		return "Falco 0.37"
	case !v.Less(Engine036):
		return "Falco 0.36"
	}
	return "Falco 0.35 or older"
}
