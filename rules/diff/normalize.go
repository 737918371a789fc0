package diff

import (
	"sort"
	"strings"

	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/condition"
)

// kind of a normalised node.
type nodeKind uint8

const (
	kLeaf nodeKind = iota
	kAnd
	kOr
	kTrue
	kFalse
)

// node is a condition in negation normal form: negations sit on leaves,
// and/or are flattened, their children deduplicated and sorted by key.
// Nodes are interned by key, so equal subtrees are the same pointer.
type node struct {
	kind nodeKind
	kids []*node // and/or: sorted by key, unique
	key  string  // canonical text; equal keys mean equal conditions

	// leaves
	neg  bool           // the check is negated
	expr condition.Expr // the check (canonical), or an unresolved identifier
	// membership leaves ("f in (...)", "f = v", "f pmatch (...)", ...):
	// left side and operator class, the values, whether more values match
	// more (false for "allof"), and the lists the values came from.
	mLeft, mClass string
	mVals         []string
	mMono         bool
	mListRef      bool // a value names a list (symbolic mode): print "in (...)"
	lists         []string
	// "f != v" leaves: the left side and the value
	neLeft, neVal string
	// never marks a check that never holds (never_true): a placeholder
	never bool
}

func (n *node) isMember() bool { return n.mClass != "" }

// interner hands out one node per key, shared by both sides of a diff.
type interner struct {
	nodes map[string]*node
	t, f  *node
}

func newInterner() *interner {
	in := &interner{nodes: map[string]*node{}}
	in.t = in.intern(&node{kind: kTrue, key: "true"})
	in.f = in.intern(&node{kind: kFalse, key: "false"})
	return in
}

func (in *interner) intern(n *node) *node {
	if old, ok := in.nodes[n.key]; ok {
		return old
	}
	in.nodes[n.key] = n
	return n
}

// junction builds a flattened, sorted, deduplicated and/or with constant
// folding (true and x = x, false and x = false, and dually).
func (in *interner) junction(kind nodeKind, kids []*node) *node {
	unit, zero := in.t, in.f // and: drop true, false absorbs
	if kind == kOr {
		unit, zero = in.f, in.t
	}
	flat := make([]*node, 0, len(kids))
	for _, k := range kids {
		switch {
		case k == zero:
			return zero
		case k == unit:
		case k.kind == kind:
			flat = append(flat, k.kids...)
		default:
			flat = append(flat, k)
		}
	}
	flat = in.mergeMembers(kind, flat)
	sort.Slice(flat, func(i, j int) bool { return flat[i].key < flat[j].key })
	out := flat[:0]
	for i, k := range flat {
		if i == 0 || k != flat[i-1] {
			out = append(out, k)
		}
	}
	switch len(out) {
	case 0:
		return unit
	case 1:
		return out[0]
	}
	sep := " and "
	if kind == kOr {
		sep = " or "
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, k := range out {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(k.key)
	}
	b.WriteByte(')')
	key := b.String()
	if n, ok := in.nodes[key]; ok {
		return n
	}
	return in.intern(&node{kind: kind, kids: append([]*node(nil), out...), key: key})
}

// mergeMembers merges the "any of" membership tests of one field that a
// junction combines into one test: f in A or f in B is f in A∪B, and
// not f in A and not f in B is not f in A∪B (in any case where f has one
// or several values). So "evt.type = open or evt.type = openat" and
// "evt.type in (open, openat)" are the same node.
func (in *interner) mergeMembers(kind nodeKind, kids []*node) []*node {
	wantNeg := kind == kAnd
	count := 0
	for _, k := range kids {
		if k.kind == kLeaf && k.isMember() && k.mMono && k.neg == wantNeg {
			count++
		}
	}
	if count < 2 {
		return kids
	}
	type group struct {
		first      int
		left       condition.Expr
		vals, list []string
		n          int
		listRef    bool
	}
	groups := map[[2]string]*group{}
	for i, k := range kids {
		if k.kind != kLeaf || !k.isMember() || !k.mMono || k.neg != wantNeg {
			continue
		}
		g := groups[[2]string{k.mLeft, k.mClass}]
		if g == nil {
			g = &group{first: i, left: k.expr.(*condition.BinaryCheck).Left}
			groups[[2]string{k.mLeft, k.mClass}] = g
		}
		g.vals = append(g.vals, k.mVals...)
		g.list = append(g.list, k.lists...)
		g.listRef = g.listRef || k.mListRef
		g.n++
	}
	out := make([]*node, 0, len(kids))
	for i, k := range kids {
		if k.kind == kLeaf && k.isMember() && k.mMono && k.neg == wantNeg {
			g := groups[[2]string{k.mLeft, k.mClass}]
			switch {
			case g.n == 1:
				out = append(out, k)
			case g.first == i:
				out = append(out, in.member(g.left, k.mClass, true, wantNeg, g.listRef, sortedUnique(g.vals), sortedUnique(g.list)))
			}
			continue
		}
		out = append(out, k)
	}
	return out
}

// member builds a membership leaf. The class "in" covers "=" and "in": one
// value prints as "f = v" (unless it names a list), several as "f in (...)".
func (in *interner) member(left condition.Expr, class string, mono, neg, listRef bool, vals, lists []string) *node {
	var c *condition.BinaryCheck
	switch {
	case class == "in" && len(vals) == 1 && !listRef:
		c = &condition.BinaryCheck{Left: left, Op: "=", Right: &condition.Value{Value: vals[0]}}
	default:
		c = &condition.BinaryCheck{Left: left, Op: class, Right: &condition.List{Values: vals}}
	}
	return in.leaf(&node{kind: kLeaf, neg: neg, expr: c, lists: lists,
		mLeft: condition.String(left), mClass: class, mVals: vals, mMono: mono, mListRef: listRef})
}

// leaf interns a leaf node, computing its key.
func (in *interner) leaf(n *node) *node {
	n.key = condition.String(n.expr)
	if n.neg {
		n.key = "not " + n.key
	}
	if old, ok := in.nodes[n.key]; ok {
		// the same check may come from different lists: keep the first
		// provenance, which is only used to explain changes
		return old
	}
	return in.intern(n)
}

// mode of expansion: full expands lists into values (what Falco compiles);
// symbolic keeps list names as values (what a macro says on its own).
type mode uint8

const (
	full mode = iota
	symbolic
)

type macroKey struct {
	name string
	neg  bool
	mode mode
}

// side normalises the conditions of one ruleset.
type side struct {
	rs         *rules.Ruleset
	in         *interner
	listItems  map[string][]string
	macroAST   map[string]condition.Expr
	macroNorm  map[macroKey]*node
	inProgress map[string]bool
	evt        map[*node]rules.EventTypes
	// listAlias maps old list names to their new names (renamed lists), so
	// that a macro naming a renamed list is not a change of its own.
	listAlias map[string]string
	prints    map[string]fingerprint // macro fingerprints
}

func newSide(rs *rules.Ruleset, in *interner) *side {
	return &side{rs: rs, in: in, listItems: map[string][]string{}, macroAST: map[string]condition.Expr{},
		macroNorm: map[macroKey]*node{}, inProgress: map[string]bool{}, evt: map[*node]rules.EventTypes{},
		prints: map[string]fingerprint{}}
}

// items returns a list's items with referenced lists expanded, as Falco
// substitutes them (a quoted item reads without its quotes).
func (s *side) items(name string) []string {
	if v, ok := s.listItems[name]; ok {
		return v
	}
	s.listItems[name] = nil // cut reference loops
	li := s.rs.List(name)
	if li == nil {
		return nil
	}
	out := make([]string, 0, len(li.Items))
	for _, it := range li.Items {
		if it != name && s.rs.List(it) != nil {
			out = append(out, s.items(it)...)
			continue
		}
		out = append(out, unquote(it))
	}
	s.listItems[name] = out
	return out
}

func (s *side) parsedMacro(name string) condition.Expr {
	if e, ok := s.macroAST[name]; ok {
		return e
	}
	var e condition.Expr
	if m := s.rs.Macro(name); m != nil {
		e, _ = condition.Parse(m.Condition.Value)
	}
	s.macroAST[name] = e
	return e
}

// text normalises a condition text; nil if it does not parse.
func (s *side) text(t string, md mode) *node {
	e, err := condition.Parse(t)
	if err != nil {
		return nil
	}
	return s.norm(e, false, md)
}

// macro normalises a macro's condition; nil if it does not parse.
func (s *side) macro(name string, md mode) *node {
	e := s.parsedMacro(name)
	if e == nil {
		return nil
	}
	return s.expandMacro(name, e, false, md)
}

func (s *side) expandMacro(name string, e condition.Expr, neg bool, md mode) *node {
	k := macroKey{name, neg, md}
	if n, ok := s.macroNorm[k]; ok {
		return n
	}
	s.inProgress[name] = true
	n := s.norm(e, neg, md)
	delete(s.inProgress, name)
	s.macroNorm[k] = n
	return n
}

// norm converts a parsed condition into negation normal form under the
// given polarity, expanding macros (and lists in full mode).
func (s *side) norm(e condition.Expr, neg bool, md mode) *node {
	switch x := e.(type) {
	case *condition.And:
		return s.junction(x.Children, neg, md, kAnd)
	case *condition.Or:
		return s.junction(x.Children, neg, md, kOr)
	case *condition.Not:
		return s.norm(x.Child, !neg, md)
	case *condition.Identifier:
		if !s.inProgress[x.Name] {
			if m := s.parsedMacro(x.Name); m != nil {
				n := s.expandMacro(x.Name, m, neg, md)
				if n.never {
					// a placeholder (never_true, or a macro defined as
					// it): keep its name, which users override
					n = s.in.leaf(&node{kind: kLeaf, neg: neg, expr: &condition.Identifier{Name: x.Name}, never: true})
				}
				return n
			}
		}
		return s.leaf(&condition.Identifier{Name: x.Name}, neg, md)
	case *condition.BinaryCheck:
		return s.check(x, neg, md)
	}
	return s.leaf(e, neg, md)
}

func (s *side) junction(children []condition.Expr, neg bool, md mode, kind nodeKind) *node {
	if neg { // De Morgan
		if kind == kAnd {
			kind = kOr
		} else {
			kind = kAnd
		}
	}
	kids := make([]*node, len(children))
	for i, c := range children {
		kids[i] = s.norm(c, neg, md)
	}
	return s.in.junction(kind, kids)
}

// check canonicalises a comparison: "==" is "=", list operands are expanded
// (full mode), sorted and deduplicated.
//
// Checks that always hold become true: evt.num checks that evt.num >= 1
// satisfies (always_true, or "not never_true"), and "not f in ()" (an empty
// allow-list). So adding "and not user_known_x" with a never_true
// placeholder, or "and not f in (empty_list)", changes nothing. Checks that
// never hold (never_true, "f in (empty_list)") stay leaves instead of
// becoming false: they gate rules that users enable by overriding the
// placeholder, and folding them would hide every change behind the gate.
func (s *side) check(x *condition.BinaryCheck, neg bool, md mode) *node {
	never := false
	if c, ok := evtNumConstant(x); ok {
		if c != neg {
			return s.in.t
		}
		never = true
	}
	op := x.Op
	if op == "==" {
		op = "="
	}
	listOp := condition.IsListOperator(op)
	c := &condition.BinaryCheck{Left: x.Left, Op: op, Right: x.Right}
	var vals, lists []string
	listRef := false
	switch r := x.Right.(type) {
	case *condition.List:
		vals, lists, listRef = s.expandValues(r.Values, md)
		if listOp {
			vals = sortedUnique(vals)
		}
		c.Right = &condition.List{Values: vals}
	case *condition.Value:
		switch {
		case listOp:
			// a list name (or a single value) after a list operator
			vals, lists, listRef = s.expandValues([]string{r.Value}, md)
			vals = sortedUnique(vals)
			c.Right = &condition.List{Values: vals}
		case md == full && s.rs.List(r.Value) != nil && len(s.items(r.Value)) == 1:
			vals, lists = s.items(r.Value), []string{r.Value}
			c.Right = &condition.Value{Value: vals[0]}
		default:
			vals = []string{r.Value}
		}
	}
	if class, mono, ok := memberClass(op, c.Right); ok && !never {
		if len(vals) == 0 && mono && neg {
			return s.in.t // "not f in ()" excludes nothing
		}
		if class == "in" || listOp {
			vals = sortedUnique(vals)
		}
		return s.in.member(x.Left, class, mono, neg, listRef, vals, lists)
	}
	n := &node{kind: kLeaf, neg: neg, expr: c, lists: lists, never: never}
	if v, ok := c.Right.(*condition.Value); ok && op == "!=" {
		n.neLeft, n.neVal = condition.String(x.Left), v.Value
	}
	return s.in.leaf(n)
}

// expandValues expands list names among vals (full mode), or in symbolic
// mode renames them (listAlias) and reports whether any value names a list.
func (s *side) expandValues(vals []string, md mode) (out, lists []string, listRef bool) {
	if md != full {
		out = make([]string, len(vals))
		for i, v := range vals {
			if s.rs.List(v) != nil {
				listRef = true
				if a, ok := s.listAlias[v]; ok {
					v = a
				}
			}
			out[i] = v
		}
		return out, nil, listRef
	}
	for _, v := range vals {
		if s.rs.List(v) != nil {
			out = append(out, s.items(v)...)
			lists = append(lists, v)
			continue
		}
		out = append(out, v)
	}
	return out, lists, false
}

// memberClass says whether a check is a membership test whose set of values
// can be compared: "=" and "in" share a class, so "f = a" implies
// "f in (a, b)".
func memberClass(op string, right condition.Expr) (class string, mono, ok bool) {
	switch right.(type) {
	case *condition.List, *condition.Value:
	default:
		return "", false, false
	}
	switch op {
	case "=", "in":
		return "in", true, true
	case "intersects", "pmatch":
		return op, true, true
	}
	if condition.IsModifierOperator(op) {
		return op, !strings.HasSuffix(op, " allof"), true
	}
	return "", false, false
}

func (s *side) leaf(e condition.Expr, neg bool, _ mode) *node {
	return s.in.leaf(&node{kind: kLeaf, neg: neg, expr: e})
}

// evtNumConstant decides checks on evt.num, which is at least 1 for every
// event, in every Falco version: the never_true and always_true macros.
func evtNumConstant(x *condition.BinaryCheck) (value, ok bool) {
	f, isField := x.Left.(*condition.Field)
	if !isField || f.Name != "evt.num" || f.HasArg {
		return false, false
	}
	if x.Op == "in" {
		l, isList := x.Right.(*condition.List)
		if !isList || len(l.Values) == 0 {
			return false, false
		}
		for _, v := range l.Values {
			if u, ok := decimal(v); !ok || u != 0 {
				return false, false
			}
		}
		return false, true
	}
	v, isValue := x.Right.(*condition.Value)
	if !isValue {
		return false, false
	}
	u, isNum := decimal(v.Value)
	if !isNum {
		return false, false
	}
	switch {
	case (x.Op == "=" || x.Op == "==") && u == 0, x.Op == "<" && u <= 1, x.Op == "<=" && u == 0:
		return false, true
	case x.Op == "!=" && u == 0, x.Op == ">" && u == 0, x.Op == ">=" && u <= 1:
		return true, true
	}
	return false, false
}

func decimal(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, true
}

// unquote reads a list item as Falco's parser does once the item is
// substituted into a condition: "a b" and 'x' lose their quotes.
func unquote(item string) string {
	v, _ := condition.Unquote(item)
	return v
}

func sortedUnique(vals []string) []string {
	out := append([]string(nil), vals...)
	sort.Strings(out)
	w := 0
	for i, v := range out {
		if i == 0 || v != out[w-1] {
			out[w] = v
			w++
		}
	}
	return out[:w]
}
