package diff

import (
	"fmt"
	"sort"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
)

// Bump is a semantic version bump, ordered: None < Patch < Minor < Major.
type Bump int

// Bumps.
const (
	None Bump = iota
	Patch
	Minor
	Major
)

var bumpNames = [...]string{"none", "patch", "minor", "major"}

func (b Bump) String() string {
	if b < None || b > Major {
		return fmt.Sprintf("Bump(%d)", int(b))
	}
	return bumpNames[b]
}

// ParseBump parses "none", "patch", "minor" or "major".
func ParseBump(s string) (Bump, error) {
	for i, n := range bumpNames {
		if n == s {
			return Bump(i), nil
		}
	}
	return None, fmt.Errorf("%q is not a bump (none, patch, minor, major)", s)
}

// MarshalText encodes the bump as its name.
func (b Bump) MarshalText() ([]byte, error) {
	if b < None || b > Major {
		return nil, fmt.Errorf("invalid bump %d", int(b))
	}
	return []byte(b.String()), nil
}

// UnmarshalText decodes a bump name.
func (b *Bump) UnmarshalText(text []byte) error {
	v, err := ParseBump(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// Kind of entity a change is about.
type Kind string

// Kinds, in the order reports list them.
const (
	KindRequirement Kind = "requirement" // required_engine_version
	KindPlugin      Kind = "plugin"      // a required_plugin_versions entry
	KindList        Kind = "list"
	KindMacro       Kind = "macro"
	KindRule        Kind = "rule"
)

var kindRank = map[Kind]int{KindRequirement: 0, KindPlugin: 1, KindList: 2, KindMacro: 3, KindRule: 4}

// Change is one difference between the old and the new ruleset.
type Change struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Change is a short verb: "removed", "added", "renamed",
	// "condition-narrowed", "priority-lowered", ... (see the Change*
	// constants).
	Change string `json:"change"`
	Bump   Bump   `json:"bump"`
	// Reason says in a sentence what changed and why it needs Bump.
	Reason string `json:"reason"`
	// File and Line locate the change in the new ruleset, or in the old one
	// for a removal.
	Line int    `json:"line"`
	File string `json:"file,omitempty"`
}

// Report is the result of a diff.
type Report struct {
	// RequiredBump is the highest bump of all changes (None if there are none).
	RequiredBump Bump `json:"required_bump"`
	// Changes in deterministic order: by kind (requirement, plugin, list,
	// macro, rule), name, change and line.
	Changes []Change `json:"changes"`
}

// Compare computes the semantic differences from old to new. Both rulesets
// should have loaded without errors; items that did not parse are compared
// by their text.
func Compare(old, new *rules.Ruleset) Report {
	in := newInterner()
	d := &differ{old: newSide(old, in), new: newSide(new, in)}
	d.requirements()
	d.plugins()
	d.lists()
	d.macros()
	d.rules()
	d.ruleOrder()
	sort.SliceStable(d.changes, func(i, j int) bool {
		a, b := d.changes[i], d.changes[j]
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Change != b.Change {
			return a.Change < b.Change
		}
		return a.Line < b.Line
	})
	r := Report{Changes: d.changes}
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	for _, c := range r.Changes {
		if c.Bump > r.RequiredBump {
			r.RequiredBump = c.Bump
		}
	}
	return r
}

// Counts returns how many changes need each bump.
func (r Report) Counts() map[Bump]int {
	out := map[Bump]int{}
	for _, c := range r.Changes {
		out[c.Bump]++
	}
	return out
}

type differ struct {
	old, new *side
	changes  []Change
}

func (d *differ) add(kind Kind, name, change string, bump Bump, at diag.Position, format string, args ...any) {
	d.changes = append(d.changes, Change{Kind: kind, Name: name, Change: change, Bump: bump,
		Reason: fmt.Sprintf(format, args...), Line: at.Line, File: at.File})
}
