package diff

import (
	"fmt"
	"sort"
	"strings"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/condition"
)

// renames pairs a removed and an added item whose definitions have the
// same key, when exactly one of each has it (an empty key is a definition
// too trivial to identify an item, such as an empty list). It returns the
// pairs and the items left over, in file order.
func renames[T any](removed, added []T, key func(T, bool) string) (pairs [][2]T, gone, fresh []T) {
	rk, ak := make([]string, len(removed)), make([]string, len(added))
	count := map[string][2]int{}
	for i, r := range removed {
		rk[i] = key(r, false)
		c := count[rk[i]]
		c[0]++
		count[rk[i]] = c
	}
	for i, a := range added {
		ak[i] = key(a, true)
		c := count[ak[i]]
		c[1]++
		count[ak[i]] = c
	}
	from := map[string]T{}
	for i, r := range removed {
		if k := rk[i]; k != "" && count[k] == [2]int{1, 1} {
			from[k] = r
			continue
		}
		gone = append(gone, r)
	}
	for i, a := range added {
		if r, ok := from[ak[i]]; ok {
			pairs = append(pairs, [2]T{r, a})
			continue
		}
		fresh = append(fresh, a)
	}
	return pairs, gone, fresh
}

const whyAdded = "adding lists, macros or rules is minor (RELEASE.md)"

func whyRemoved(kind Kind) string {
	if kind == KindRule {
		return "consumers' appends, overrides and exceptions that name it fail to load, and its detections stop"
	}
	return "consumers' rules, macros and overrides that reference it fail to load"
}

// ws collapses white space, which YAML folding and indentation change
// without changing what Falco compiles.
func ws(s string) string { return strings.Join(strings.Fields(s), " ") }

// canonical prints a condition as parsed (white space, redundant
// parentheses and quoting do not matter), or its text when it does not
// parse.
func canonical(s string) string {
	if e, err := condition.Parse(s); err == nil {
		return condition.String(e)
	}
	return ws(s)
}

func textLoc(t rules.Text, fallback diag.Position) diag.Position {
	if at := t.Position(0); at.File != "" {
		return at
	}
	return fallback
}

// matchByName calls compare for every item defined on both sides and returns
// the items only the old side (removed) or only the new side (added) has.
func matchByName[T comparable](olds, news []T, name func(T) string, oldByName, newByName func(string) T, compare func(o, n T)) (removed, added []T) {
	var none T
	for _, n := range news {
		if o := oldByName(name(n)); o != none {
			compare(o, n)
		} else {
			added = append(added, n)
		}
	}
	for _, o := range olds {
		if newByName(name(o)) == none {
			removed = append(removed, o)
		}
	}
	return removed, added
}

func (d *differ) lists() {
	removed, added := matchByName(d.old.rs.Lists, d.new.rs.Lists, func(l *rules.List) string { return l.Name }, d.old.rs.List, d.new.rs.List, d.compareList)
	pairs, gone, fresh := renames(removed, added, func(l *rules.List, _ bool) string {
		return strings.Join(sortedUnique(unquoteAll(l.Items)), "\x00")
	})
	for _, p := range pairs {
		d.add(KindList, p[1].Name, ChangeRenamed, Major, p[1].At, "renamed from `%s` (same items); %s", p[0].Name, whyRemoved(KindList))
		if d.old.listAlias == nil {
			d.old.listAlias = map[string]string{}
		}
		d.old.listAlias[p[0].Name] = p[1].Name
	}
	for _, l := range gone {
		d.add(KindList, l.Name, ChangeRemoved, Major, l.At, "list removed; %s", whyRemoved(KindList))
	}
	for _, l := range fresh {
		d.add(KindList, l.Name, ChangeAdded, Minor, l.At, "new list with %d items; %s", len(l.Items), whyAdded)
	}
}

func (d *differ) compareList(ol, nl *rules.List) {
	os, ns := sortedUnique(unquoteAll(ol.Items)), sortedUnique(unquoteAll(nl.Items))
	gone, fresh := setDiff(os, ns)
	const why = "list item changes are patch (RELEASE.md); rules that become narrower or wider through the list are judged on their own"
	switch {
	case len(gone) > 0 && len(fresh) > 0:
		d.add(KindList, nl.Name, ChangeItemsChanged, Patch, nl.At, "gained %s and lost %s; %s", valueList(fresh), valueList(gone), why)
	case len(fresh) > 0:
		d.add(KindList, nl.Name, ChangeItemsAdded, Patch, nl.At, "gained %s; %s", valueList(fresh), why)
	case len(gone) > 0:
		d.add(KindList, nl.Name, ChangeItemsRemoved, Patch, nl.At, "lost %s; %s", valueList(gone), why)
	case strings.Join(ol.Items, "\x00") != strings.Join(nl.Items, "\x00"):
		d.add(KindList, nl.Name, ChangeItemsReordered, None, nl.At, "items reordered, duplicated or quoted differently; every list operator treats a list as a set")
	}
}

func unquoteAll(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = unquote(it)
	}
	return out
}

// macroDef identifies a macro's definition for rename detection.
func (d *differ) macroDef(m *rules.Macro, isNew bool) string {
	s := d.old
	if isNew {
		s = d.new
	}
	if n := s.macro(m.Name, symbolic); n != nil {
		if n.kind == kTrue || n.kind == kFalse {
			return "" // never_true placeholders and the like
		}
		return n.key
	}
	return "\x00" + ws(m.Condition.Value)
}

func (d *differ) macros() {
	removed, added := matchByName(d.old.rs.Macros, d.new.rs.Macros, func(m *rules.Macro) string { return m.Name }, d.old.rs.Macro, d.new.rs.Macro, d.compareMacro)
	pairs, gone, fresh := renames(removed, added, d.macroDef)
	for _, p := range pairs {
		d.add(KindMacro, p[1].Name, ChangeRenamed, Major, p[1].At, "renamed from `%s` (same condition); %s", p[0].Name, whyRemoved(KindMacro))
	}
	for _, m := range gone {
		d.add(KindMacro, m.Name, ChangeRemoved, Major, m.At, "macro removed; %s", whyRemoved(KindMacro))
	}
	for _, m := range fresh {
		d.add(KindMacro, m.Name, ChangeAdded, Minor, m.At, "new macro; %s", whyAdded)
	}
}

const whyMacro = "consumers' rules use macros in either polarity, so any change of what a macro matches is major (RELEASE.md)"

func (d *differ) compareMacro(om, nm *rules.Macro) {
	if d.old.macroPrint(om.Name) == d.new.macroPrint(nm.Name) {
		return // same text, same macros and lists below it
	}
	at := textLoc(nm.Condition, nm.At)
	textChanged := canonical(om.Condition.Value) != canonical(nm.Condition.Value)
	osym, nsym := d.old.macro(om.Name, symbolic), d.new.macro(nm.Name, symbolic)
	if osym == nil || nsym == nil {
		if textChanged {
			d.add(KindMacro, nm.Name, ChangeConditionChanged, Major, at, "the condition changed and could not be parsed on both sides; %s", whyMacro)
		}
		return
	}
	oe := d.old.eventTypes(d.old.macro(om.Name, full))
	ne := d.new.eventTypes(d.new.macro(nm.Name, full))
	if !oe.Equal(ne) {
		d.add(KindMacro, nm.Name, ChangeEventTypesChanged, Major, at, "%s; %s", describeEventTypes(oe, ne), whyMacro)
		return
	}
	if osym == nsym {
		if textChanged {
			d.add(KindMacro, nm.Name, ChangeConditionRefactored, None, at, "the condition text changed but its macro-expanded form is the same")
		}
		return
	}
	rel, decided := relate(d.old.in, osym, nsym)
	detail := explain(osym, nsym)
	switch rel {
	case relEquivalent:
		d.add(KindMacro, nm.Name, ChangeConditionRefactored, None, at, "the condition was rewritten into an equivalent one (%s)", detail)
	case relNarrower:
		d.add(KindMacro, nm.Name, ChangeConditionNarrowed, Major, at, "the macro matches fewer events%s: %s; %s", orSame(decided), detail, whyMacro)
	case relWider:
		d.add(KindMacro, nm.Name, ChangeConditionWidened, Major, at, "the macro matches more events%s: %s; %s", orSame(decided), detail, whyMacro)
	default:
		d.add(KindMacro, nm.Name, ChangeConditionChanged, Major, at, "%s: %s; %s", undecided(decided), detail, whyMacro)
	}
}

// orSame qualifies a one-way result when the search for the other way ran
// out of budget.
func orSame(decided bool) string {
	if decided {
		return ""
	}
	return " or the same ones (the conditions are too large to decide which)"
}

func undecided(decided bool) string {
	if decided {
		return "cannot decide whether the condition is narrower or wider"
	}
	return "the conditions are too large to decide whether the new one is narrower or wider"
}

func describeEventTypes(o, n rules.EventTypes) string {
	if n.All() {
		return fmt.Sprintf("now matches every event type (it was limited to %s)", valueList(o.Names()))
	}
	removed := o.Intersect(n.Complement())
	added := n.Intersect(o.Complement())
	var parts []string
	if names := removed.Names(); len(names) > 0 {
		parts = append(parts, "no longer matches event types "+valueList(names))
	}
	if names := added.Names(); len(names) > 0 {
		parts = append(parts, "now also matches event types "+valueList(names))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("event types changed from %s to %s", o, n)
	}
	return strings.Join(parts, " and ")
}

func (d *differ) ruleDef(r *rules.Rule, isNew bool) string {
	s := d.old
	if isNew {
		s = d.new
	}
	cond := "\x00" + ws(r.Condition.Value)
	if n := s.text(r.Condition.Value, full); n != nil {
		cond = n.key
	}
	return strings.Join([]string{cond, ws(r.Output.Value), r.Priority.String(), r.Source}, "\x00")
}

func (d *differ) rules() {
	removed, added := matchByName(d.old.rs.Rules, d.new.rs.Rules, func(r *rules.Rule) string { return r.Name }, d.old.rs.Rule, d.new.rs.Rule, d.compareRule)
	pairs, gone, fresh := renames(removed, added, d.ruleDef)
	for _, p := range pairs {
		d.add(KindRule, p[1].Name, ChangeRenamed, Major, p[1].At, "renamed from `%s` (same condition, output and priority); %s", p[0].Name, whyRemoved(KindRule))
	}
	for _, r := range gone {
		d.add(KindRule, r.Name, ChangeRemoved, Major, r.At, "rule removed; %s", whyRemoved(KindRule))
	}
	for _, r := range fresh {
		state := "enabled"
		if !r.Enabled {
			state = "disabled"
		}
		d.add(KindRule, r.Name, ChangeAdded, Minor, r.At, "new %s rule (%s); %s", state, r.Priority, whyAdded)
	}
}

func (d *differ) compareRule(or, nr *rules.Rule) {
	name := nr.Name
	if or.Source != nr.Source {
		d.add(KindRule, name, ChangeSourceChanged, Major, nr.At, "source changed from %s to %s: the rule now sees a different event stream", or.Source, nr.Source)
	}
	switch {
	case or.Enabled && !nr.Enabled:
		d.add(KindRule, name, ChangeDisabled, Major, nr.At, "the rule is disabled by default; its detections stop (RELEASE.md)")
	case !or.Enabled && nr.Enabled:
		d.add(KindRule, name, ChangeEnabled, Patch, nr.At, "the rule is enabled by default (RELEASE.md: patch)")
	}
	switch {
	case nr.Priority > or.Priority:
		d.add(KindRule, name, ChangePriorityLowered, Major, nr.At, "priority lowered from %s to %s; outputs and alerts filtered by priority may drop it (RELEASE.md)", or.Priority, nr.Priority)
	case nr.Priority < or.Priority:
		d.add(KindRule, name, ChangePriorityRaised, Patch, nr.At, "priority raised from %s to %s (RELEASE.md: patch)", or.Priority, nr.Priority)
	}
	if gone, fresh := setDiff(sortedUnique(or.Tags), sortedUnique(nr.Tags)); len(gone) > 0 || len(fresh) > 0 {
		if len(gone) > 0 {
			d.add(KindRule, name, ChangeTagsRemoved, Major, nr.At, "lost tags %s; consumers that select rules by tag lose it (RELEASE.md)", valueList(gone))
		}
		if len(fresh) > 0 {
			d.add(KindRule, name, ChangeTagsAdded, Patch, nr.At, "gained tags %s (RELEASE.md: patch)", valueList(fresh))
		}
	}
	if ws(or.Desc) != ws(nr.Desc) {
		d.add(KindRule, name, ChangeDescChanged, Patch, nr.At, "the description changed; it changes no detection but is published content that `falco -L` shows")
	}
	d.compareOutput(or, nr)
	d.compareCondition(or, nr)
	d.compareExceptions(or, nr)
	switch {
	case or.SkipIfUnknownFilter && !nr.SkipIfUnknownFilter:
		d.add(KindRule, name, ChangeSkipUnknownDisabled, Major, nr.At, "skip-if-unknown-filter turned off: an engine without a field the rule uses now fails to load the file instead of skipping the rule")
	case !or.SkipIfUnknownFilter && nr.SkipIfUnknownFilter:
		d.add(KindRule, name, ChangeSkipUnknownEnabled, Patch, nr.At, "skip-if-unknown-filter turned on: engines without a field the rule uses skip the rule instead of failing")
	}
	if or.WarnEvttypes != nr.WarnEvttypes {
		d.add(KindRule, name, ChangeWarnEvttypesChanged, Patch, nr.At, "warn_evttypes changed to %t; only load-time warnings change", nr.WarnEvttypes)
	}
	if or.Capture != nr.Capture || or.CaptureDuration != nr.CaptureDuration {
		d.add(KindRule, name, ChangeCaptureChanged, Patch, nr.At, "capture settings changed (capture %t, capture_duration %d); no detection changes", nr.Capture, nr.CaptureDuration)
	}
}

// outputFields lists the %fields of an output format as written: whatever
// parses as a field, known to Falco or not.
func outputFields(s string) []string {
	var out []string
	for sc := rules.NewOutputScanner(s); sc.Next(); {
		e, n, err := condition.ParseField(s[sc.Field():])
		if err != nil || n == 0 {
			continue
		}
		out = append(out, "%"+condition.String(e))
		sc.Skip(n)
	}
	return sortedUnique(out)
}

func (d *differ) compareOutput(or, nr *rules.Rule) {
	if ws(or.Output.Value) == ws(nr.Output.Value) {
		return
	}
	at := textLoc(nr.Output, nr.At)
	gone, fresh := setDiff(outputFields(or.Output.Value), outputFields(nr.Output.Value))
	if len(gone) == 0 && len(fresh) == 0 {
		d.add(KindRule, nr.Name, ChangeOutputTextChanged, Patch, at, "the output text changed with the same fields (RELEASE.md: patch)")
		return
	}
	var parts []string
	if len(fresh) > 0 {
		parts = append(parts, "added "+valueList(fresh))
	}
	if len(gone) > 0 {
		parts = append(parts, "removed "+valueList(gone))
	}
	d.add(KindRule, nr.Name, ChangeOutputFieldsChanged, Patch, at, "output fields %s (RELEASE.md: patch)", strings.Join(parts, ", "))
}

func (d *differ) compareCondition(or, nr *rules.Rule) {
	if d.old.conditionPrint(or.Condition.Value) == d.new.conditionPrint(nr.Condition.Value) {
		return // same text, same macros and lists below it
	}
	at := textLoc(nr.Condition, nr.At)
	textChanged := canonical(or.Condition.Value) != canonical(nr.Condition.Value)
	on, nn := d.old.text(or.Condition.Value, full), d.new.text(nr.Condition.Value, full)
	if on == nil || nn == nil {
		if textChanged {
			d.add(KindRule, nr.Name, ChangeConditionChanged, Major, at, "the condition changed and could not be parsed on both sides")
		}
		return
	}
	if on == nn {
		if textChanged {
			d.add(KindRule, nr.Name, ChangeConditionRefactored, None, at, "the condition text changed but its macro- and list-expanded form is the same")
		}
		return
	}
	rel, decided := relate(d.old.in, on, nn)
	detail := explain(on, nn)
	var lostTypes bool
	var evDetail string
	gainedTypes := false
	if or.Source == "syscall" && nr.Source == "syscall" {
		oe, ne := d.old.eventTypes(on), d.new.eventTypes(nn)
		if !oe.Equal(ne) {
			lostTypes = !ne.Contains(oe)
			gainedTypes = !oe.Contains(ne)
			evDetail = describeEventTypes(oe, ne)
		}
	}
	switch {
	case rel == relEquivalent:
		d.add(KindRule, nr.Name, ChangeConditionRefactored, None, at, "the condition was rewritten into an equivalent one (%s)", detail)
	case lostTypes:
		d.add(KindRule, nr.Name, ChangeEventTypesRemoved, Major, at, "the rule %s: %s", evDetail, detail)
	case rel == relNarrower:
		d.add(KindRule, nr.Name, ChangeConditionNarrowed, Major, at, "the rule matches fewer events%s: %s", orSame(decided), detail)
	case rel == relUnknown:
		d.add(KindRule, nr.Name, ChangeConditionChanged, Major, at, "%s, so it is treated as narrowing: %s", undecided(decided), detail)
	case gainedTypes:
		d.add(KindRule, nr.Name, ChangeEventTypesAdded, Patch, at, "the rule %s: %s", evDetail, detail)
	default:
		d.add(KindRule, nr.Name, ChangeConditionWidened, Patch, at, "the rule matches more events%s: %s", orSame(decided), detail)
	}
}

// entryString renders an exception entry; nested lists (the operands of a
// list operator) are sets and are sorted.
func entryString(e rules.ExceptionEntry, nested bool) string {
	if !e.IsList {
		return e.Item
	}
	parts := make([]string, len(e.Items))
	for i, it := range e.Items {
		parts[i] = entryString(it, true)
	}
	if nested {
		parts = sortedUnique(parts)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func exceptionValues(ex *rules.Exception) []string {
	out := make([]string, len(ex.Values))
	for i, v := range ex.Values {
		out[i] = entryString(v, false)
	}
	return sortedUnique(out)
}

func (d *differ) compareExceptions(or, nr *rules.Rule) {
	olds := map[string]*rules.Exception{}
	for _, ex := range or.Exceptions {
		if _, dup := olds[ex.Name]; !dup {
			olds[ex.Name] = ex
		}
	}
	seen := map[string]bool{}
	for _, nx := range nr.Exceptions {
		if seen[nx.Name] {
			continue
		}
		seen[nx.Name] = true
		ox := olds[nx.Name]
		name := nr.Name
		if ox == nil {
			d.add(KindRule, name, ChangeExceptionAdded, Patch, nx.At,
				"new exception `%s` on %s with %d values; it narrows the rule, but exceptions are Falco's tuning mechanism and adding them is patch (RELEASE.md)",
				nx.Name, entryString(nx.Fields, false), len(nx.Values))
			continue
		}
		const whyAppend = "consumers that append values to this exception by name would have them compared differently"
		if of, nf := entryString(ox.Fields, false), entryString(nx.Fields, false); of != nf {
			d.add(KindRule, name, ChangeExceptionFieldsChanged, Major, nx.At, "exception `%s` fields changed from %s to %s; %s", nx.Name, of, nf, whyAppend)
		}
		if oc, nc := entryString(ox.Comps, false), entryString(nx.Comps, false); oc != nc {
			d.add(KindRule, name, ChangeExceptionCompsChanged, Major, nx.At, "exception `%s` comps changed from %s to %s; %s", nx.Name, oc, nc, whyAppend)
		}
		gone, fresh := setDiff(exceptionValues(ox), exceptionValues(nx))
		if len(fresh) > 0 {
			d.add(KindRule, name, ChangeExceptionValuesAdded, Patch, nx.At,
				"exception `%s` gained values %s; the rule matches fewer events, which exceptions are for (RELEASE.md: patch)", nx.Name, valueList(fresh))
		}
		if len(gone) > 0 {
			d.add(KindRule, name, ChangeExceptionValuesRemoved, Patch, nx.At,
				"exception `%s` lost values %s; the rule matches more events (RELEASE.md: patch)", nx.Name, valueList(gone))
		}
	}
	var removed []string
	for name := range olds {
		if !seen[name] {
			removed = append(removed, name)
		}
	}
	sort.Strings(removed)
	for _, exName := range removed {
		d.add(KindRule, nr.Name, ChangeExceptionRemoved, Major, nr.At,
			"exception `%s` removed; the rule matches more events (patch on its own), but consumers that append values to it by name now fail to load (Falco requires fields for an exception it does not know)", exName)
	}
}
