package ruletest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/falcops/falcops/rules/condition"
)

// special marks checks with libsinsp's custom comparison logic.
type special uint8

const (
	specialNone      special = iota
	specialAncestors         // proc.aname & co. without index: any ancestor
	specialSides             // fd.ip, fd.net, fd.port, fd.proto: client or server side
)

type check struct {
	expr     condition.Expr // the check as written, for explanations
	lhs      extractor
	t        ftype // transformed type of the left-hand side
	op       string
	mod      int
	consts   []value
	set      map[value]struct{} // in / intersects membership
	rhs      extractor          // a field on the right-hand side
	paths    *pathMatcher
	regexes  []*regexp.Regexp
	special  special
	lhsField string // the field name, for special checks
}

func (c *compiler) check(expr, left condition.Expr, opText string, right condition.Expr) (node, error) {
	op, mod, err := splitOperator(opText)
	if err != nil {
		return nil, err
	}
	lhs, err := c.extractor(left, false)
	if err != nil {
		return nil, err
	}
	ch := &check{expr: expr, lhs: lhs, t: lhs.typ(), op: op, mod: mod}
	if f, ok := lhs.(*fieldExtractor); ok && c.source == DefaultSource && !f.ref.hasArg {
		if _, anc := ancestorFields[f.ref.name]; anc {
			ch.special, ch.lhsField = specialAncestors, f.ref.name
		} else if _, either := eitherSideFields[f.ref.name]; either {
			ch.special, ch.lhsField = specialSides, f.ref.name
		}
	}
	if err := checkComparable(op, ch.t); err != nil {
		return nil, fmt.Errorf("filter error: %w", err)
	}
	if ch.special == specialSides {
		if err := sidesOperator(ch.lhsField, op); err != nil {
			return nil, err
		}
	}
	if ch.t.list && op != opExists && mod != modNone {
		return nil, fmt.Errorf("list filter '%s' only supports operators 'exists', 'in' and 'intersects'", lhs.name())
	}
	if right == nil {
		if op != opExists {
			return nil, fmt.Errorf("operator '%s' needs a right-hand value", opText)
		}
		return ch, nil
	}
	if op == opExists {
		return nil, fmt.Errorf("operator 'exists' takes no right-hand value")
	}
	switch r := right.(type) {
	case *condition.Field, *condition.Transformer:
		return ch, c.rhsField(ch, r)
	case *condition.Value:
		vals := []string{r.Value}
		return ch, c.constants(ch, vals)
	case *condition.List:
		if op != opIn && op != opIntersects && op != opPmatch && mod == modNone {
			return nil, fmt.Errorf("operator '%s' takes a single value, not a list", opText)
		}
		return ch, c.sharedConstants(ch, r.Values)
	}
	return nil, fmt.Errorf("unexpected right-hand operand %T", right)
}

// sidesOperator rejects the operators compare_ip and compare_port throw for.
func sidesOperator(field, op string) error {
	switch field {
	case "fd.ip":
		switch op {
		case opEQ, opNE, opIn, opExists:
			return nil
		}
		return fmt.Errorf("filter error: IP filter only supports '=' and '!=' operators")
	case "fd.port", "fd.proto":
		switch op {
		case opEQ, opNE, opLT, opLE, opGT, opGE, opIn, opExists:
			return nil
		}
		return fmt.Errorf("filter error: unsupported port comparison operator")
	}
	return nil
}

// constKey identifies a list of constants by its backing array (the loader
// shares a list's items between every reference) and what parsing depends on.
type constKey struct {
	first *string
	n     int
	t     ftype
	op    string
}

// constSet is what constants computes from a list of values.
type constSet struct {
	consts  []value
	set     map[value]struct{}
	paths   *pathMatcher
	regexes []*regexp.Regexp
}

// sharedConstants is constants, computed once per shared value list: a
// 100k-item list referenced by 2,000 rules is parsed and indexed once.
func (c *compiler) sharedConstants(ch *check, vals []string) error {
	if len(vals) == 0 {
		return c.constants(ch, vals)
	}
	key := constKey{first: &vals[0], n: len(vals), t: ch.t, op: ch.op}
	if cs, ok := c.consts[key]; ok {
		ch.consts, ch.set, ch.paths, ch.regexes = cs.consts, cs.set, cs.paths, cs.regexes
		return nil
	}
	if err := c.constants(ch, vals); err != nil {
		return err
	}
	c.consts[key] = &constSet{consts: ch.consts, set: ch.set, paths: ch.paths, regexes: ch.regexes}
	return nil
}

// constants parses the right-hand values for the left-hand type, as
// add_filtercheck_value and add_filter_value do (sinsp_filtercheck.cpp).
func (c *compiler) constants(ch *check, vals []string) error {
	ch.consts = make([]value, 0, len(vals))
	for _, s := range vals {
		if ch.op == opBContains || ch.op == opBStartswith {
			b, err := unhex(s)
			if err != nil {
				return fmt.Errorf("filter error: %w", err)
			}
			s = b
		}
		if ch.op == opRegex {
			re, err := compileRegex(s)
			if err != nil {
				return err
			}
			ch.regexes = append(ch.regexes, re)
		}
		v, err := parseConst(ch.t, s)
		if err != nil {
			return fmt.Errorf("filter error: field '%s': %w", ch.lhs.name(), err)
		}
		ch.consts = append(ch.consts, v)
	}
	switch ch.op {
	case opPmatch:
		ch.paths = newPathMatcher(vals)
	case opIn, opIntersects:
		ch.set = make(map[value]struct{}, len(ch.consts))
		for _, v := range ch.consts {
			ch.set[memberKey(ch.t, v)] = struct{}{}
		}
	}
	return nil
}

// rhsField sets up a comparison with a field on the right-hand side
// (sinsp_filter_check::add_filter_value with a filter check).
func (c *compiler) rhsField(ch *check, right condition.Expr) error {
	if ch.op == opPmatch || ch.op == opRegex {
		return fmt.Errorf("operator '%s' doesn't support right-hand side fields", strings.ToUpper(ch.op))
	}
	if ch.t.kind == kIPNet {
		return fmt.Errorf("field type 'IPNET' doesn't support right-hand side fields")
	}
	if f, ok := ch.lhs.(*fieldExtractor); ok && noRHS[f.ref.name] {
		return fmt.Errorf("field '%s' doesn't support right-hand side fields", f.ref.name)
	}
	rhs, err := c.extractor(right, true)
	if err != nil {
		return err
	}
	if f, ok := rhs.(*fieldExtractor); ok && noRHS[f.ref.name] {
		return fmt.Errorf("field '%s' can't be used as a right-hand side field", f.ref.name)
	}
	rt := rhs.typ()
	if rt.name != ch.t.name || rt.list != ch.t.list {
		return fmt.Errorf("field '%s' has type '%s' while the right-hand side field '%s' has incompatible type '%s'",
			ch.lhs.name(), ch.t, rhs.name(), rt)
	}
	ch.rhs = rhs
	return nil
}

// memberKey is the part of a value that set membership compares: libsinsp
// compares the parsed bytes (memcmp), so e.g. "01" and "1" are the same
// number but "a" and "a\x00b" are different strings.
func memberKey(t ftype, v value) value {
	switch t.kind {
	case kString:
		return value{s: strings.TrimRight(v.s, "\x00")}
	case kBytes, kDyn:
		return value{s: v.s}
	case kInt, kUint, kBool:
		return value{n: v.n}
	case kDouble:
		return value{f: v.f}
	case kIPAddr:
		return value{ip: v.ip}
	}
	return v
}

func (ch *check) eval(st *evalState) bool { return ch.holds(st.ev) }

// holds evaluates the check on an event.
func (ch *check) holds(ev *Event) bool {
	switch ch.special {
	case specialAncestors:
		return ch.evalAncestors(ev)
	case specialSides:
		return ch.evalSides(ev)
	}
	vals, ok := ch.lhs.extract(ev)
	if !ok {
		return false
	}
	consts, set := ch.consts, ch.set
	if ch.rhs != nil {
		rv, ok := ch.rhs.extract(ev)
		if !ok {
			return false
		}
		consts, set = rv, nil
	}
	if ch.op == opExists {
		return true
	}
	if ch.t.list {
		// compare_rhs for list fields: 'in' needs every value in the set,
		// 'intersects' one of them
		for _, v := range vals {
			in := ch.member(v, consts, set)
			if ch.op == opIn && !in {
				return false
			}
			if ch.op == opIntersects && in {
				return true
			}
		}
		return ch.op == opIn
	}
	if len(vals) == 0 {
		return false
	}
	if ch.mod != modNone {
		return ch.evalModifier(vals[0], consts)
	}
	return ch.compareOne(vals[0], consts, set)
}

// member is the set membership test of 'in' and 'intersects'.
func (ch *check) member(v value, consts []value, set map[value]struct{}) bool {
	if ch.t.kind == kIPNet {
		for _, k := range consts {
			if compare(opEQ, ch.t, v, k) {
				return true
			}
		}
		return false
	}
	key := memberKey(ch.t, v)
	if set != nil {
		_, ok := set[key]
		return ok
	}
	for _, k := range consts {
		if memberKey(ch.t, k) == key {
			return true
		}
	}
	return false
}

// compareOne is sinsp_filter_check::compare_rhs for one value.
func (ch *check) compareOne(v value, consts []value, set map[value]struct{}) bool {
	switch ch.op {
	case opExists:
		return true
	case opIn, opIntersects:
		return ch.member(v, consts, set)
	case opPmatch:
		if ch.t.kind == kIPNet {
			return ch.member(v, consts, set)
		}
		return ch.paths != nil && ch.paths.match(cstr(v.s))
	case opRegex:
		if ch.t.kind != kString || len(ch.regexes) == 0 {
			return false
		}
		return fullMatch(ch.regexes[0], strings.TrimRight(v.s, "\x00"))
	}
	if len(consts) == 0 {
		return false
	}
	return compare(ch.op, ch.t, v, consts[0])
}

// evalModifier is compare_rhs_with_mod: oneof (exactly one element
// matches), anyof (at least one), allof (every element).
func (ch *check) evalModifier(v value, consts []value) bool {
	op := ch.op
	if ch.t.kind == kIPNet && op != opEQ && op != opNE && op != opRegex {
		op = opEQ
	}
	n := len(consts)
	if op == opRegex {
		n = len(ch.regexes)
	}
	if n == 0 {
		return false
	}
	matches := 0
	for i := 0; i < n; i++ {
		var ok bool
		if op == opRegex {
			ok = ch.t.kind == kString && fullMatch(ch.regexes[i], strings.TrimRight(v.s, "\x00"))
		} else {
			ok = compare(op, ch.t, v, consts[i])
		}
		switch {
		case ok && ch.mod == modAnyOf:
			return true
		case !ok && ch.mod == modAllOf:
			return false
		case ok && ch.mod == modOneOf:
			matches++
			if matches > 1 {
				return false
			}
		}
	}
	switch ch.mod {
	case modAnyOf:
		return false
	case modAllOf:
		return true
	}
	return matches == 1
}

// evalAncestors is compare_full_aname and friends: the check holds when it
// holds for one ancestor, from the parent up. Like libsinsp, it compares
// with compare_rhs, which ignores an operator modifier and then uses the
// first value only.
func (ch *check) evalAncestors(ev *Event) bool {
	for _, a := range ev.ancestors(ch.lhsField) {
		if ch.compareOne(a, ch.consts, ch.set) {
			return true
		}
	}
	return false
}

// evalSides is compare_ip, compare_net and compare_port: '=', 'in' and the
// ordering operators hold when they hold for the client or the server side,
// '!=' when it holds for both. compare_net compares with the first value
// only, also for 'in'.
func (ch *check) evalSides(ev *Event) bool {
	sides := ev.sides(ch.lhsField)
	if len(sides) == 0 {
		return false
	}
	if ch.op == opExists {
		return true
	}
	one := func(v value) bool {
		if ch.lhsField == "fd.net" {
			if len(ch.consts) == 0 {
				return false
			}
			op := ch.op
			if op == opIn {
				op = opEQ
			}
			return compare(op, ch.t, v, ch.consts[0])
		}
		return ch.compareOne(v, ch.consts, ch.set)
	}
	if ch.op == opNE {
		for _, v := range sides {
			if !one(v) {
				return false
			}
		}
		return true
	}
	if ch.lhsField == "fd.net" && ch.op != opEQ && ch.op != opIn {
		return false
	}
	for _, v := range sides {
		if one(v) {
			return true
		}
	}
	return false
}
