package rules

import (
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules/condition"
)

// Priority of a rule, most urgent first (Falco's order).
type Priority int

// Priorities as Falco defines them.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = []string{"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"}

func (p Priority) String() string {
	if p < 0 || int(p) >= len(priorityNames) {
		return "Unknown"
	}
	return priorityNames[p]
}

// ParsePriority parses a priority case-insensitively; "info" means Informational.
func ParsePriority(s string) (Priority, bool) {
	for i, n := range priorityNames {
		if strings.EqualFold(s, n) {
			return Priority(i), true
		}
	}
	if strings.EqualFold(s, "info") {
		return PriorityInformational, true
	}
	return 0, false
}

// PluginVersion is one plugin name and minimum version.
type PluginVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// PluginRequirement is one required_plugin_versions entry: the plugin and its
// alternatives, any of which satisfies the requirement.
type PluginRequirement struct {
	Alternatives []PluginVersion `json:"alternatives"`
	At           diag.Position   `json:"-"`
}

// List is a list item after all appends and overrides.
type List struct {
	Name  string
	Items []string
	At    diag.Position
	Used  bool

	loadOrder
}

// Macro is a macro after all appends and overrides.
type Macro struct {
	Name      string
	Condition Text
	At        diag.Position
	Used      bool
	// AST is the parsed condition with lists expanded; nil if it did not parse.
	AST condition.Expr

	loadOrder
}

// loadOrder is where an item stands in the load order: index is where it was
// first defined, visibility where it was last defined or appended to. An item
// sees only the items defined before its visibility.
type loadOrder struct{ index, visibility int }

func (o *loadOrder) order() *loadOrder { return o }

// named is a list, macro or rule as the loader defines it (see define).
type named interface {
	name() string
	order() *loadOrder
}

func (li *List) name() string { return li.Name }
func (m *Macro) name() string { return m.Name }
func (r *Rule) name() string  { return r.Name }

// Exception is one entry of a rule's exceptions.
type Exception struct {
	Name   string
	Fields ExceptionEntry
	Comps  ExceptionEntry
	Values []ExceptionEntry
	At     diag.Position

	src  *Source
	node *yaml.Node
}

// ExceptionEntry is a scalar or a (nested) list, as exceptions allow.
type ExceptionEntry struct {
	IsList bool
	Item   string
	Items  []ExceptionEntry

	node *yaml.Node // where the entry is written; nil for defaults
}

// loc is where an entry of the exception is written, or the exception itself
// when the entry is not written in the file (a default).
func (ex *Exception) loc(n *yaml.Node) diag.Position {
	if n == nil || ex.src == nil {
		return ex.At
	}
	return nodePos(n).In(ex.src.Name)
}

func (e ExceptionEntry) valid() bool {
	return (e.IsList && len(e.Items) > 0) || (!e.IsList && e.Item != "")
}

// Rule is a rule after all appends and overrides.
type Rule struct {
	Name                string
	Condition           Text
	Output              Text
	Desc                string
	Priority            Priority
	Source              string
	Enabled             bool
	Tags                []string
	Exceptions          []*Exception
	WarnEvttypes        bool
	SkipIfUnknownFilter bool
	Capture             bool
	CaptureDuration     uint64
	At                  diag.Position

	// Compiled is the condition with exceptions compiled in and lists
	// expanded; macros stay references (see Ruleset.Expand). Nil when the
	// rule was skipped or did not compile.
	Compiled condition.Expr
	// EventTypes is the set of event types the condition can match (syscall
	// rules only).
	EventTypes EventTypes
	// Skipped is set when Falco would not load the rule (unknown source, or an
	// unknown field with skip-if-unknown-filter).
	Skipped bool

	loadOrder
	unknownSource bool
}

// Ruleset is the result of loading one or more rules files in order.
type Ruleset struct {
	Sources []*Source
	// Engine is the engine version the rules were validated against.
	Engine Version
	// RequiredEngine is the highest required_engine_version of all files
	// (zero when none declares one).
	RequiredEngine   Version
	RequiredEngineAt diag.Position
	Plugins          []PluginRequirement
	Lists            []*List
	Macros           []*Macro
	Rules            []*Rule
	Findings         diag.Findings

	lists  map[string]*List
	macros map[string]*Macro
	rules  map[string]*Rule
}

// List returns the list with the given name.
func (rs *Ruleset) List(name string) *List { return rs.lists[name] }

// Macro returns the macro with the given name.
func (rs *Ruleset) Macro(name string) *Macro { return rs.macros[name] }

// Rule returns the rule with the given name.
func (rs *Ruleset) Rule(name string) *Rule { return rs.rules[name] }

// Expand returns a copy of the rule's compiled condition with every macro
// reference replaced by the macro's condition, recursively, as Falco
// compiles it. The copy can be exponentially larger than the rules (a macro
// using another twice doubles it): evaluators should share macros instead,
// as ruletest does. It returns nil if the rule has no compiled condition.
func (rs *Ruleset) Expand(r *Rule) condition.Expr {
	if r.Compiled == nil {
		return nil
	}
	return rs.expand(r.Compiled, map[string]bool{})
}

func (rs *Ruleset) expand(e condition.Expr, path map[string]bool) condition.Expr {
	switch n := e.(type) {
	case *condition.And:
		c := &condition.And{Children: rs.expandAll(n.Children, path)}
		c.Offset = n.Offset
		return c
	case *condition.Or:
		c := &condition.Or{Children: rs.expandAll(n.Children, path)}
		c.Offset = n.Offset
		return c
	case *condition.Not:
		c := &condition.Not{Child: rs.expand(n.Child, path)}
		c.Offset = n.Offset
		return c
	case *condition.Identifier:
		m := rs.macros[n.Name]
		if m == nil || m.AST == nil || path[n.Name] {
			return n
		}
		path[n.Name] = true
		out := rs.expand(m.AST, path)
		delete(path, n.Name)
		return out
	}
	return e
}

func (rs *Ruleset) expandAll(children []condition.Expr, path map[string]bool) []condition.Expr {
	out := make([]condition.Expr, len(children))
	for i, ch := range children {
		out[i] = rs.expand(ch, path)
	}
	return out
}

func sortedSet(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	set := make(map[string]bool, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !set[t] {
			set[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}
