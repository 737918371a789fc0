package diff

import (
	"sort"

	"github.com/falcops/falcops/rules"
)

// ruleOrder reports rules that moved relative to others. Order is
// behaviour: with rule_matching: first (Falco's default) only the first
// loaded rule that matches an event fires, so swapping two rules that can
// match the same event decides which of them alerts. Whether they can is
// not decided here beyond sources, enabled state and event types, so a
// possible overlap is major (undecidable narrowing) and none otherwise.
func (d *differ) ruleOrder() {
	oldIdx := map[string]int{}
	for i, r := range d.old.rs.Rules {
		oldIdx[r.Name] = i
	}
	newIdx := map[string]int{}
	var common []*rules.Rule // in old order
	for i, r := range d.new.rs.Rules {
		newIdx[r.Name] = i
	}
	for _, r := range d.old.rs.Rules {
		if _, ok := newIdx[r.Name]; ok {
			common = append(common, d.new.rs.Rule(r.Name))
		}
	}
	keep := longestIncreasing(common, newIdx)
	for _, m := range common {
		if keep[m.Name] {
			continue
		}
		var overlapping, passed []string
		for _, c := range common {
			if c == m || (oldIdx[m.Name] < oldIdx[c.Name]) == (newIdx[m.Name] < newIdx[c.Name]) {
				continue
			}
			passed = append(passed, c.Name)
			if d.mayOverlap(m, c) {
				overlapping = append(overlapping, c.Name)
			}
		}
		if len(overlapping) > 0 {
			d.add(KindRule, m.Name, ChangeOrderChanged, Major, m.At,
				"now loaded on the other side of %s, which can match the same events; with rule_matching: first (Falco's default) only the first loaded matching rule fires, so the new order can take alerts from one of them",
				valueList(overlapping))
			continue
		}
		d.add(KindRule, m.Name, ChangeOrderChanged, None, m.At,
			"moved past %s, which cannot match the same events (other source, disabled or no shared event type), so which rule fires first cannot change", valueList(passed))
	}
}

// longestIncreasing returns the rules (given in old order) that keep their
// relative order in the new file: a longest subsequence increasing in
// newIdx. The others moved.
func longestIncreasing(rs []*rules.Rule, newIdx map[string]int) map[string]bool {
	var tails []int // index into rs of the smallest tail of each length
	prev := make([]int, len(rs))
	for i, r := range rs {
		v := newIdx[r.Name]
		j := sort.Search(len(tails), func(k int) bool { return newIdx[rs[tails[k]].Name] >= v })
		if j > 0 {
			prev[i] = tails[j-1]
		} else {
			prev[i] = -1
		}
		if j == len(tails) {
			tails = append(tails, i)
		} else {
			tails[j] = i
		}
	}
	keep := map[string]bool{}
	if len(tails) == 0 {
		return keep
	}
	for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
		keep[rs[i].Name] = true
	}
	return keep
}

// mayOverlap reports whether two rules (of the new ruleset) might match
// the same event.
func (d *differ) mayOverlap(a, b *rules.Rule) bool {
	if a.Source != b.Source || !a.Enabled || !b.Enabled {
		return false
	}
	if a.Source != "syscall" {
		return true
	}
	na, nb := d.new.text(a.Condition.Value, full), d.new.text(b.Condition.Value, full)
	if na == nil || nb == nil {
		return true
	}
	return !d.new.eventTypes(na).Intersect(d.new.eventTypes(nb)).Equal(rules.EventTypesOf())
}
