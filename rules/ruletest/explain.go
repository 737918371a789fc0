package ruletest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/falcops/falcops/rules/condition"
)

// fact is a check that decided a condition's outcome on an event, as the
// condition states it (negated when under an odd number of 'not').
type fact struct {
	check   *check
	negated bool
	macro   string // the innermost macro holding the check; "" for the rule's own condition
}

// maxFacts bounds how many checks an explanation names.
const maxFacts = 6

// explainer finds the checks that decided a program's outcome: for a false
// condition the first false part (the first false child of an 'and', the
// first alternative of an 'or'), for a true one every part that had to hold
// (each child of an 'and', the first true alternative of an 'or').
type explainer struct {
	st    *evalState
	facts []fact
	seen  map[seenKey]bool
}

type seenKey struct {
	id  int
	val bool
}

// explain evaluates the program on an event and says why it matched or not.
func (p *Program) explain(ev *Event) (matched bool, why string) {
	x := &explainer{st: newState(ev, p.memo), seen: map[seenKey]bool{}}
	matched = p.root.eval(x.st)
	x.why(p.root, matched, false, "")
	return matched, x.text(matched)
}

// why records the checks that made n evaluate to v; neg says whether n is
// under an odd number of 'not'. Each macro is explained once per outcome,
// so a macro used along many paths costs its size once.
func (x *explainer) why(n node, v, neg bool, macro string) {
	switch n := n.(type) {
	case andNode:
		for _, c := range n {
			cv := c.eval(x.st)
			if v || !cv {
				x.why(c, cv, neg, macro)
			}
			if !v && !cv {
				return
			}
		}
	case orNode:
		for _, c := range n {
			if cv := c.eval(x.st); cv == v {
				x.why(c, cv, neg, macro)
				return
			}
		}
	case notNode:
		x.why(n.child, !v, !neg, macro)
	case *macroNode:
		k := seenKey{n.id, v}
		if x.seen[k] {
			return
		}
		x.seen[k] = true
		x.why(n.child, v, neg, n.name)
	case *check:
		x.facts = append(x.facts, fact{check: n, negated: neg, macro: macro})
	}
}

// text is the explanation: `"proc.name = bash" was false: proc.name is "sh"`
// for a condition that did not match, the parts that held for one that did.
func (x *explainer) text(matched bool) string {
	if len(x.facts) == 0 {
		return ""
	}
	if !matched {
		f := x.facts[0]
		return fmt.Sprintf("%s was false: %s", f.predicate(), f.check.values(x.st.ev))
	}
	parts := make([]string, 0, maxFacts+1)
	for i, f := range x.facts {
		if i == maxFacts {
			parts = append(parts, fmt.Sprintf("and %d more", len(x.facts)-maxFacts))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", f.predicate(), f.check.values(x.st.ev)))
	}
	return "these held: " + strings.Join(parts, ", ")
}

// predicate quotes the check as the condition states it, with its macro.
func (f fact) predicate() string {
	s := condition.String(f.check.expr)
	if f.negated {
		s = "not " + s
	}
	s = strconv.Quote(shorten(s, 160))
	if f.macro != "" {
		s += " in macro '" + f.macro + "'"
	}
	return s
}

// values says what the event has for the fields of a check:
// `proc.name is "sh"`, `proc.name is not set`.
func (ch *check) values(ev *Event) string {
	var vals []value
	var ok bool
	switch ch.special {
	case specialAncestors:
		vals = ev.ancestors(ch.lhsField)
		ok = len(vals) > 0
	case specialSides:
		vals = ev.sides(ch.lhsField)
		ok = len(vals) > 0
	default:
		vals, ok = ch.lhs.extract(ev)
	}
	s := describe(ch.lhs.name(), ch.t, vals, ok, ch.t.list || ch.special != specialNone)
	if ch.rhs != nil {
		rv, rok := ch.rhs.extract(ev)
		s += ", " + describe(ch.rhs.name(), ch.rhs.typ(), rv, rok, ch.rhs.typ().list)
	}
	return s
}

func describe(name string, t ftype, vals []value, ok, many bool) string {
	if !ok {
		return name + " is not set"
	}
	q := make([]string, 0, min(len(vals), 8)+1)
	for i, v := range vals {
		if i == 8 {
			q = append(q, fmt.Sprintf("… %d more", len(vals)-8))
			break
		}
		q = append(q, showValue(t, v))
	}
	if many || len(q) != 1 {
		return name + " is (" + strings.Join(q, ", ") + ")"
	}
	return name + " is " + q[0]
}

// showValue quotes strings; numbers, booleans and addresses stay bare.
func showValue(t ftype, v value) string {
	switch t.kind {
	case kString, kBytes, kDyn:
		return strconv.Quote(shorten(cstr(v.s), 120))
	}
	return v.text(t)
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
