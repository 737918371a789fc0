package rules

import (
	"math"
	"sort"
	"strings"

	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

// EventTypes is a set of syscall event type names: either the names listed
// or, when negated, every event type except them.
type EventTypes struct {
	neg   bool
	names []string // sorted, unique
}

// AllEventTypes is the set of every event type.
func AllEventTypes() EventTypes { return EventTypes{neg: true} }

// EventTypesOf is the set of the given names.
func EventTypesOf(names ...string) EventTypes {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return EventTypes{names: uniq(s)}
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// All reports whether the set holds every event type.
func (s EventTypes) All() bool { return s.neg && len(s.names) == 0 }

// Negated reports whether the set is "all except Names".
func (s EventTypes) Negated() bool { return s.neg }

// Listed returns the names listed: the members, or the excluded names of a negated set.
func (s EventTypes) Listed() []string { return s.names }

// Names returns the members, resolving a negated set against the catalog.
func (s EventTypes) Names() []string {
	if !s.neg {
		return s.names
	}
	var out []string
	for _, n := range fields.EventNames() {
		if s.has(n) {
			out = append(out, n)
		}
	}
	return out
}

func (s EventTypes) has(n string) bool {
	i := sort.SearchStrings(s.names, n)
	found := i < len(s.names) && s.names[i] == n
	return found != s.neg
}

// Codes counts the kernel event codes of the set, as Falco does before it
// warns that a rule matches too many event types (more than 100 codes).
func (s EventTypes) Codes() int {
	n := 0
	for _, name := range s.names {
		n += fields.EventCodes(name)
	}
	if s.neg {
		return fields.AllEventCodes() - n
	}
	return n
}

// Equal reports whether two sets are the same.
func (s EventTypes) Equal(o EventTypes) bool {
	if s.neg != o.neg || len(s.names) != len(o.names) {
		return false
	}
	for i := range s.names {
		if s.names[i] != o.names[i] {
			return false
		}
	}
	return true
}

func (s EventTypes) String() string {
	if s.All() {
		return "all"
	}
	if s.neg {
		return "all except " + strings.Join(s.names, ", ")
	}
	if len(s.names) == 0 {
		return "none"
	}
	return strings.Join(s.names, ", ")
}

// Complement returns every event type not in s.
func (s EventTypes) Complement() EventTypes { return EventTypes{neg: !s.neg, names: s.names} }

// Union returns s ∪ o.
func (s EventTypes) Union(o EventTypes) EventTypes {
	switch {
	case !s.neg && !o.neg:
		return EventTypes{names: merge(s.names, o.names)}
	case s.neg && o.neg:
		return EventTypes{neg: true, names: intersect(s.names, o.names)}
	case s.neg:
		return EventTypes{neg: true, names: minus(s.names, o.names)}
	default:
		return EventTypes{neg: true, names: minus(o.names, s.names)}
	}
}

// Intersect returns s ∩ o.
func (s EventTypes) Intersect(o EventTypes) EventTypes {
	switch {
	case !s.neg && !o.neg:
		return EventTypes{names: intersect(s.names, o.names)}
	case s.neg && o.neg:
		return EventTypes{neg: true, names: merge(s.names, o.names)}
	case s.neg:
		return EventTypes{names: minus(o.names, s.names)}
	default:
		return EventTypes{names: minus(s.names, o.names)}
	}
}

// Contains reports whether every member of o is in s.
func (s EventTypes) Contains(o EventTypes) bool {
	return o.Intersect(s.Complement()).isEmpty()
}

func (s EventTypes) isEmpty() bool { return !s.neg && len(s.names) == 0 }

func merge(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case b[j] < a[i]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	j := 0
	for _, v := range a {
		for j < len(b) && b[j] < v {
			j++
		}
		if j < len(b) && b[j] == v {
			continue
		}
		out = append(out, v)
	}
	return out
}

// evttypeResolver computes event-type sets as libsinsp's event code search
// does: negations are pushed down to the leaves (De Morgan), checks on
// evt.type give their names, every other check matches all event types.
// Macro references are resolved through the ruleset, memoised per polarity.
type evttypeResolver struct {
	rs         *Ruleset
	invariants bool // evt.num invariants (Falco master)
	memo       map[string]EventTypes
	inProgress map[string]bool
}

func (r *evttypeResolver) of(e condition.Expr) EventTypes { return r.visit(e, false) }

func (r *evttypeResolver) visit(e condition.Expr, neg bool) EventTypes {
	switch n := e.(type) {
	case *condition.And:
		return r.combine(n.Children, neg, !neg)
	case *condition.Or:
		return r.combine(n.Children, neg, neg)
	case *condition.Not:
		return r.visit(n.Child, !neg)
	case *condition.Identifier:
		return r.macro(n.Name, neg)
	case *condition.UnaryCheck:
		if isEvtTypeField(n.Left) && n.Op == "exists" && neg {
			return EventTypes{}
		}
		return AllEventTypes()
	case *condition.BinaryCheck:
		return r.check(n, neg)
	}
	return AllEventTypes()
}

// combine intersects the children's sets (conjunction) or unites them.
func (r *evttypeResolver) combine(children []condition.Expr, neg, conjunction bool) EventTypes {
	var acc EventTypes
	if conjunction {
		acc = AllEventTypes()
	}
	for _, c := range children {
		s := r.visit(c, neg)
		if conjunction {
			acc = acc.Intersect(s)
		} else {
			acc = acc.Union(s)
		}
	}
	return acc
}

func (r *evttypeResolver) check(n *condition.BinaryCheck, neg bool) EventTypes {
	if r.invariants {
		if s, ok := evtNumInvariant(n); ok {
			if neg {
				return s.Complement()
			}
			return s
		}
	}
	if !isEvtTypeOperator(n.Op) || !isEvtTypeField(n.Left) {
		return AllEventTypes()
	}
	var s EventTypes
	switch v := n.Right.(type) {
	case *condition.Value:
		s = EventTypesOf(withCodes(v.Value)...)
	case *condition.List:
		s = EventTypesOf(withCodes(v.Values...)...)
	default:
		return AllEventTypes() // reported as an error by the checks
	}
	if neg {
		s = s.Complement()
	}
	if n.Op == "!=" {
		s = s.Complement()
	}
	return s
}

// withCodes keeps the names that map to at least one event code. libsinsp
// builds the set from event codes (names_to_event_set), so a name without
// codes ("syscall", or an unknown name compared with syscall.type, which
// libsinsp does not validate) adds nothing to it.
func withCodes(names ...string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if fields.EventCodes(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// isEvtTypeOperator reports whether the event code search reads the set of
// a check on evt.type with this operator (libsinsp is_evttype_operator).
func isEvtTypeOperator(op string) bool {
	return op == "=" || op == "==" || op == "!=" || op == "in"
}

const msgEvtTypeTransformer = "event code search does not support `evt.type` checks with transformers"

// evtTypeInTransformer reports whether libsinsp's event code search fails on
// a transformer because evt.type (or syscall.type) is one of its arguments:
// a direct argument, one of a nested transformer, or the last element of a
// parenthesised argument list (the search checks the flag that the list's
// last element leaves behind).
func evtTypeInTransformer(t *condition.Transformer) bool {
	for _, a := range t.Args {
		switch x := a.(type) {
		case *condition.Transformer:
			if evtTypeInTransformer(x) {
				return true
			}
		case *condition.TransformerList:
			for _, c := range x.Children {
				if inner, ok := c.(*condition.Transformer); ok && evtTypeInTransformer(inner) {
					return true
				}
			}
			if n := len(x.Children); n > 0 && isEvtTypeField(x.Children[n-1]) {
				return true
			}
		default:
			if isEvtTypeField(a) {
				return true
			}
		}
	}
	return false
}

func isEvtTypeField(e condition.Expr) bool {
	f, ok := e.(*condition.Field)
	return ok && !f.HasArg && (f.Name == "evt.type" || f.Name == "syscall.type")
}

// evtNumInvariant decides checks on evt.num, which is always >= 1.
func evtNumInvariant(n *condition.BinaryCheck) (EventTypes, bool) {
	f, ok := n.Left.(*condition.Field)
	if !ok || f.Name != "evt.num" || f.HasArg {
		return EventTypes{}, false
	}
	none, all := EventTypes{}, AllEventTypes()
	if n.Op == "in" {
		l, ok := n.Right.(*condition.List)
		if !ok {
			return none, false
		}
		for _, v := range l.Values {
			if u, ok := parseU64(v); !ok || u != 0 {
				return none, false
			}
		}
		return none, true
	}
	v, ok := n.Right.(*condition.Value)
	if !ok {
		return none, false
	}
	u, ok := parseU64(v.Value)
	if !ok {
		return none, false
	}
	switch {
	case (n.Op == "=" || n.Op == "==") && u == 0, n.Op == "<" && u <= 1, n.Op == "<=" && u == 0:
		return none, true
	case n.Op == "!=" && u == 0, n.Op == ">" && u == 0, n.Op == ">=" && u <= 1:
		return all, true
	}
	return none, false
}

// parseU64 parses a number as libsinsp's sinsp_numparser::tryparseu64 does
// (sscanf "%" PRIu64 "%c" that must match the number only): optional leading
// white space and sign, then decimal digits to the end. A negative number
// wraps around and an overflow gives the maximum, as strtoull does; "0x0",
// "1.5" or "1_0" are not numbers, so the invariants leave them undecided.
func parseU64(s string) (uint64, bool) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var n uint64
	overflow := false
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			overflow = true
		}
		n = n*10 + d
	}
	switch {
	case overflow:
		return math.MaxUint64, true
	case neg:
		return -n, true
	}
	return n, true
}

func (r *evttypeResolver) macro(name string, neg bool) EventTypes {
	m := r.rs.macros[name]
	if m == nil || m.AST == nil || r.inProgress[name] {
		return AllEventTypes()
	}
	key := name
	if neg {
		key = "!" + name
	}
	if s, ok := r.memo[key]; ok {
		return s
	}
	r.inProgress[name] = true
	s := r.visit(m.AST, neg)
	delete(r.inProgress, name)
	r.memo[key] = s
	return s
}
