package diff

import (
	"fmt"
	"sort"
	"strings"
)

// relation of a new condition to the old one.
type relation uint8

const (
	relEquivalent relation = iota // matches exactly the same events
	relNarrower                   // matches a subset of the old events
	relWider                      // matches a superset of the old events
	relUnknown                    // neither could be shown
)

// proofBudget bounds the implication steps per comparison, splitBudget
// the case splits (each builds new nodes); beyond them the relation is
// undecided (and so major). Variables so that tests can lower them.
var (
	proofBudget = 200000
	splitBudget = 2000
)

// prover decides a ⇒ b on normalised trees, soundly but incompletely:
// "true" is a proof, "false" means no proof was found.
type prover struct {
	in        *interner
	memo      map[[2]*node]bool
	nodes     map[*node]map[*node]bool
	budget    int // implication steps left
	splits    int // case splits left (each builds new nodes)
	exhausted bool
}

func newProver(in *interner) *prover {
	return &prover{in: in, memo: map[[2]*node]bool{}, nodes: map[*node]map[*node]bool{}, budget: proofBudget, splits: splitBudget}
}

func (p *prover) implies(a, b *node) bool {
	if a == b || a.kind == kFalse || b.kind == kTrue {
		return true
	}
	if a.kind == kTrue || b.kind == kFalse {
		return false
	}
	k := [2]*node{a, b}
	if v, ok := p.memo[k]; ok {
		return v
	}
	if p.budget--; p.budget < 0 {
		p.exhausted = true
		return false
	}
	var r bool
	switch {
	case b.kind == kAnd: // a ⇒ every conjunct
		r = true
		for _, bk := range b.kids {
			if !p.implies(a, bk) {
				r = false
				break
			}
		}
	case a.kind == kOr: // every alternative ⇒ b
		r = true
		for _, ak := range a.kids {
			if !p.implies(ak, b) {
				r = false
				break
			}
		}
	default:
		// a is a conjunction or a leaf, b a disjunction or a leaf
		if a.kind == kAnd && hasKid(a, b) || b.kind == kOr && hasKid(b, a) {
			r = true
			break
		}
		if a.kind == kAnd {
			for _, ak := range a.kids {
				if p.implies(ak, b) {
					r = true
					break
				}
			}
		}
		if !r && b.kind == kOr {
			for _, bk := range b.kids {
				if p.implies(a, bk) {
					r = true
					break
				}
			}
		}
		if !r && a.kind == kLeaf && b.kind == kLeaf {
			r = leafImplies(a, b)
		}
		if !r {
			r = p.split(a, b)
		}
	}
	p.memo[k] = r
	return r
}

// split reasons by cases where the rules above are too weak: a conjunction
// with a disjunction among its conjuncts, (x or y) and r ⇒ b, holds when
// both x and r ⇒ b and y and r ⇒ b; dually a ⇒ (x and y) or r holds when
// a ⇒ x or r and a ⇒ y or r.
//
// Leaves only combine through membership, which normalisation merges, so a
// split can only help between a conjunction and a disjunction.
func (p *prover) split(a, b *node) bool {
	if a.kind != kAnd || b.kind != kOr {
		return false
	}
	ai, bi := p.relevant(a.kids, kOr, b), p.relevant(b.kids, kAnd, a)
	if ai < 0 && bi < 0 {
		return false
	}
	if p.splits--; p.splits < 0 {
		p.exhausted = true
		return false
	}
	if ai >= 0 {
		rest := without(a.kids, ai)
		ok := true
		for _, x := range a.kids[ai].kids {
			if !p.implies(p.in.junction(kAnd, append(rest, x)), b) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	if bi >= 0 {
		rest := without(b.kids, bi)
		for _, y := range b.kids[bi].kids {
			if !p.implies(a, p.in.junction(kOr, append(rest, y))) {
				return false
			}
		}
		return true
	}
	return false
}

// relevant picks the junction among kids (of the given kind) to split on:
// the one with most children that also occur in other, so that a split
// serves the proof; -1 if there is none.
func (p *prover) relevant(kids []*node, kind nodeKind, other *node) int {
	best, bestScore := -1, -1
	var in map[*node]bool
	for i, k := range kids {
		if k.kind != kind {
			continue
		}
		if in == nil {
			in = p.nodesOf(other)
		}
		score := 0
		for _, c := range k.kids {
			if in[c] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// nodesOf returns every node of a tree, memoised per root.
func (p *prover) nodesOf(n *node) map[*node]bool {
	if m, ok := p.nodes[n]; ok {
		return m
	}
	m := map[*node]bool{}
	var walk func(*node)
	walk = func(x *node) {
		if m[x] {
			return
		}
		m[x] = true
		for _, k := range x.kids {
			walk(k)
		}
	}
	walk(n)
	p.nodes[n] = m
	return m
}

// without returns a copy of kids without the i-th, with room for one more.
func without(kids []*node, i int) []*node {
	out := make([]*node, 0, len(kids))
	out = append(out, kids[:i]...)
	return append(out, kids[i+1:]...)
}

// hasKid reports whether c is a child of the junction j (kids are sorted).
func hasKid(j, c *node) bool {
	i := sort.Search(len(j.kids), func(i int) bool { return j.kids[i].key >= c.key })
	return i < len(j.kids) && j.kids[i] == c
}

// leafImplies relates two membership tests of the same field and operator
// class: f in S ⇒ f in T when S ⊆ T, and not f in S ⇒ not f in T when T ⊆ S
// (reversed for "allof", which matches less with more values).
func leafImplies(a, b *node) bool {
	if a.neLeft != "" && !a.neg && b.isMember() && b.neg && b.mMono && b.mClass == "in" && b.mLeft == a.neLeft {
		// f != v ⇒ not f in T when T ⊆ {v}: != holds only for a value
		// that differs from v (a missing field fails both =, != and in)
		return subset(b.mVals, []string{a.neVal})
	}
	if !a.isMember() || !b.isMember() || a.neg != b.neg || a.mLeft != b.mLeft || a.mClass != b.mClass {
		return false
	}
	sub, sup := a.mVals, b.mVals
	if a.neg != !a.mMono { // negated xor anti-monotonic
		sub, sup = sup, sub
	}
	return subset(sub, sup)
}

// subset reports whether every value of a (sorted, unique) is in b (sorted,
// unique); values of "f = v" are a single value.
func subset(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	j := 0
	for _, v := range a {
		for j < len(b) && b[j] < v {
			j++
		}
		if j == len(b) || b[j] != v {
			return false
		}
		j++
	}
	return true
}

// relate decides how the new condition relates to the old one. decided is
// false when the proof search ran out of budget: a relation that was not
// proven may then still hold (narrower may be equivalent, unknown may be
// anything).
func relate(in *interner, old, new *node) (rel relation, decided bool) {
	if old == new {
		return relEquivalent, true
	}
	p := newProver(in)
	narrower := p.implies(new, old)
	wider := p.implies(old, new)
	switch {
	case narrower && wider:
		return relEquivalent, true
	case narrower:
		return relNarrower, !p.exhausted
	case wider:
		return relWider, !p.exhausted
	}
	return relUnknown, !p.exhausted
}

// explain describes the smallest differing part of two conditions.
func explain(old, new *node) string {
	switch {
	case old.kind == new.kind && (old.kind == kAnd || old.kind == kOr):
		removed, added := kidDiff(old, new)
		if len(removed) == 1 && len(added) == 1 {
			return explain(removed[0], added[0])
		}
		return describeJunction(old.kind, removed, added)
	case (new.kind == kAnd || new.kind == kOr) && hasKid(new, old):
		return describeJunction(new.kind, nil, others(new.kids, old))
	case (old.kind == kAnd || old.kind == kOr) && hasKid(old, new):
		return describeJunction(old.kind, others(old.kids, new), nil)
	case old.kind == kLeaf && new.kind == kLeaf && old.isMember() && new.isMember() &&
		old.neg == new.neg && old.mLeft == new.mLeft && old.mClass == new.mClass &&
		(len(old.mVals) > 1 || len(new.mVals) > 1):
		return describeValues(old, new)
	}
	return fmt.Sprintf("%s became %s", snippet(old.key), snippet(new.key))
}

// kidDiff returns the children of old not in new and of new not in old,
// treating a non-junction as a junction of one.
func kidDiff(old, new *node) (removed, added []*node) {
	ok, nk := kidsOf(old), kidsOf(new)
	inNew := map[*node]bool{}
	for _, k := range nk {
		inNew[k] = true
	}
	inOld := map[*node]bool{}
	for _, k := range ok {
		inOld[k] = true
		if !inNew[k] {
			removed = append(removed, k)
		}
	}
	for _, k := range nk {
		if !inOld[k] {
			added = append(added, k)
		}
	}
	return removed, added
}

// others returns kids without k.
func others(kids []*node, k *node) []*node {
	out := make([]*node, 0, len(kids))
	for _, c := range kids {
		if c != k {
			out = append(out, c)
		}
	}
	return out
}

func kidsOf(n *node) []*node {
	if n.kind == kAnd || n.kind == kOr {
		return n.kids
	}
	return []*node{n}
}

func describeJunction(kind nodeKind, removed, added []*node) string {
	what := "conjunct"
	if kind == kOr {
		what = "alternative"
	}
	var parts []string
	// A removed and an added child that are alike (membership tests of the
	// same field, or junctions sharing children) changed in place: explain
	// them recursively, once for identical explanations.
	seen := map[string]int{}
	for i := 0; i < len(removed); i++ {
		j := alike(removed[i], added)
		if j < 0 {
			continue
		}
		e := explain(removed[i], added[j])
		if k, dup := seen[e]; dup {
			parts[k] = strings.TrimSuffix(parts[k], " (in several places)") + " (in several places)"
		} else {
			seen[e] = len(parts)
			parts = append(parts, e)
		}
		removed = append(removed[:i:i], removed[i+1:]...)
		added = append(added[:j:j], added[j+1:]...)
		i--
	}
	if len(added) > 0 {
		parts = append(parts, fmt.Sprintf("added %s %s", plural(len(added), what), snippets(added)))
	}
	if len(removed) > 0 {
		parts = append(parts, fmt.Sprintf("removed %s %s", plural(len(removed), what), snippets(removed)))
	}
	return strings.Join(parts, "; ")
}

// alike returns the index of the node in cands most like r, or -1: a
// membership test of the same field and polarity, or a junction of the
// same kind sharing the most children (at least one, and at least half of
// the smaller one's).
func alike(r *node, cands []*node) int {
	best, bestShared := -1, 0
	for j, a := range cands {
		switch {
		case r.kind == kLeaf && a.kind == kLeaf:
			if r.isMember() && a.isMember() && a.neg == r.neg && a.mLeft == r.mLeft && a.mClass == r.mClass {
				return j
			}
		case r.kind == a.kind && (r.kind == kAnd || r.kind == kOr):
			shared := 0
			for _, k := range a.kids {
				if hasKid(r, k) {
					shared++
				}
			}
			if shared > bestShared && 2*shared >= min(len(r.kids), len(a.kids)) {
				best, bestShared = j, shared
			}
		}
	}
	return best
}

func describeValues(old, new *node) string {
	removed, added := setDiff(old.mVals, new.mVals)
	subject := "`" + old.mLeft + " " + old.mClass + " (...)`"
	lists := sortedUnique(append(append([]string(nil), old.lists...), new.lists...))
	if len(lists) > 0 {
		subject += " (from " + plural(len(lists), "list") + " " + valueList(lists) + ")"
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "gained "+valueList(added))
	}
	if len(removed) > 0 {
		parts = append(parts, "lost "+valueList(removed))
	}
	s := subject + " " + strings.Join(parts, " and ")
	if old.neg {
		s += " under a negation"
	}
	return s
}

// setDiff returns the values only in a and only in b (both sorted, unique).
func setDiff(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

const maxShown = 5

func valueList(vals []string) string {
	q := quoteAll(vals)
	if len(q) > maxShown {
		return strings.Join(q[:maxShown], ", ") + fmt.Sprintf(" and %d more", len(q)-maxShown)
	}
	return strings.Join(q, ", ")
}

func quoteAll(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = "`" + v + "`"
	}
	return out
}

func snippets(ns []*node) string {
	var parts []string
	for i, n := range ns {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ns)-3))
			break
		}
		parts = append(parts, snippet(n.key))
	}
	return strings.Join(parts, ", ")
}

const snippetLen = 120

// snippet quotes a condition for a message, shortened in the middle.
func snippet(s string) string {
	if r := []rune(s); len(r) > snippetLen {
		s = string(r[:snippetLen/2-2]) + " ... " + string(r[len(r)-snippetLen/2+3:])
	}
	return "`" + s + "`"
}

// plural is noun in the plural unless n is 1 (the count itself is not included).
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}
