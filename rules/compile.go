package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules/condition"
)

// compiler checks the collected items as Falco's rule compiler does.
type compiler struct {
	rs         *Ruleset
	engine     Version
	expanded   map[string][]string // list name -> items with referenced lists expanded
	macroProbs map[string][]problem
	evt        *evttypeResolver
	reported   map[string]bool
	// fieldValues remembers which constant values name a field
	// (valueWarnings).
	fieldValues map[string]map[string]bool
	// blankLists are the list names with a blank (substituteBlankLists).
	blankLists []string
}

func (l *loader) compile() {
	c := &compiler{rs: l.rs, engine: l.engine, expanded: map[string][]string{},
		macroProbs: map[string][]problem{}, reported: map[string]bool{}}
	c.evt = &evttypeResolver{rs: l.rs, invariants: !l.engine.Less(EngineNext),
		memo: map[string]EventTypes{}, inProgress: map[string]bool{}}
	c.compileLists()
	c.compileMacros()
	c.compileRules()
	for _, m := range c.rs.Macros {
		if !m.Used {
			c.add(diag.Warning, WarnUnusedMacro, "Macro not referred to by any other rule/macro", m.At, "macro '"+m.Name+"'")
		}
	}
	for _, li := range c.rs.Lists {
		if !li.Used {
			c.add(diag.Warning, WarnUnusedList, "List not referred to by any other rule/macro", li.At, "list '"+li.Name+"'")
		}
	}
}

// add records a finding once, however many rules lead to it.
func (c *compiler) add(sev diag.Severity, code, msg string, at diag.Position, item string) {
	key := fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s\x00%s", code, at.File, at.Line, at.Column, msg, item)
	if c.reported[key] {
		return
	}
	c.reported[key] = true
	c.rs.Findings = append(c.rs.Findings, diag.Finding{Code: code, Severity: sev, Message: msg, Position: at, Item: item})
}

func (c *compiler) compileLists() {
	for _, li := range c.rs.Lists {
		items := make([]string, 0, len(li.Items))
		for _, it := range li.Items {
			if ref := c.rs.lists[it]; ref != nil && ref.index < li.visibility {
				ref.Used = true
				for _, r := range ref.Items {
					items = append(items, unquote(r))
				}
				continue
			}
			items = append(items, unquote(it))
		}
		c.expanded[li.Name] = items
	}
}

// unquote reads a list item the way Falco's parser does after substituting
// it into a condition: a quoted item loses its quotes.
func unquote(item string) string {
	v, _ := condition.Unquote(item)
	return v
}

// parse parses a condition text and expands list references in it.
func (c *compiler) parse(t Text, item string) condition.Expr {
	t.Value = c.substituteBlankLists(t.Value)
	if c.engine.Less(EngineHexEscapes) {
		if at := hexEscape(t.Value); at >= 0 {
			c.add(diag.Error, ErrCompileCondition, `unsupported string escape sequence: \x`, t.Position(at), item)
			return nil
		}
	}
	e, err := condition.Parse(t.Value)
	if err != nil {
		var pe *condition.Error
		if !errors.As(err, &pe) {
			pe = &condition.Error{Msg: err.Error()}
		}
		c.add(diag.Error, ErrCompileCondition, pe.Msg, t.Position(pe.Offset), item)
		return nil
	}
	var probs []problem
	e = c.substituteLists(e, t, &probs)
	for _, p := range probs {
		c.add(diag.Error, p.code, p.msg, p.at, item)
	}
	if len(probs) > 0 {
		return nil
	}
	return e
}

// substituteLists replaces list names by their items where Falco's textual
// list substitution would put them.
func (c *compiler) substituteLists(e condition.Expr, t Text, probs *[]problem) condition.Expr {
	switch n := e.(type) {
	case *condition.And:
		for i, ch := range n.Children {
			n.Children[i] = c.substituteLists(ch, t, probs)
		}
	case *condition.Or:
		for i, ch := range n.Children {
			n.Children[i] = c.substituteLists(ch, t, probs)
		}
	case *condition.Not:
		n.Child = c.substituteLists(n.Child, t, probs)
	case *condition.Identifier:
		if _, ok := c.expanded[n.Name]; ok {
			c.rs.lists[n.Name].Used = true
			*probs = append(*probs, problem{code: ErrCompileCondition, at: t.Position(n.Offset),
				msg: "list '" + n.Name + "' is used where a condition is expected"})
		}
	case *condition.BinaryCheck:
		switch r := n.Right.(type) {
		case *condition.List:
			r.Values = c.expandValues(r.Values)
		case *condition.Value:
			items, ok := c.expanded[r.Value]
			if !ok {
				break
			}
			c.rs.lists[r.Value].Used = true
			if condition.IsListOperator(n.Op) {
				// shared by every reference, not copied: a big list used by
				// many rules costs its size once (the cap makes appends copy)
				l := &condition.List{Values: items[:len(items):len(items)]}
				l.Offset = r.Offset
				n.Right = l
			} else if len(items) == 1 {
				r.Value = items[0]
			} else {
				*probs = append(*probs, problem{code: ErrCompileCondition, at: t.Position(r.Offset),
					msg: fmt.Sprintf("list '%s' (%d items) is used as a single value; use 'in (%s)'", r.Value, len(items), r.Value)})
			}
		}
	}
	return e
}

// expandValues replaces list names among the values by their items. A
// value list that is one list name gets the list's items themselves, shared
// by every reference (read-only, like the whole AST).
func (c *compiler) expandValues(vals []string) []string {
	if len(vals) == 1 {
		if items, ok := c.expanded[vals[0]]; ok {
			c.rs.lists[vals[0]].Used = true
			return items[:len(items):len(items)]
		}
	}
	var out []string
	for i, v := range vals {
		items, ok := c.expanded[v]
		if !ok {
			if out != nil {
				out = append(out, v)
			}
			continue
		}
		c.rs.lists[v].Used = true
		if out == nil {
			out = append(make([]string, 0, len(vals)+len(items)), vals[:i]...)
		}
		out = append(out, items...)
	}
	if out == nil {
		return vals
	}
	return out
}

func (c *compiler) compileMacros() {
	for _, m := range c.rs.Macros {
		m.AST = c.parse(m.Condition, "macro '"+m.Name+"'")
	}
	for _, m := range c.rs.Macros {
		if m.AST == nil {
			continue
		}
		condition.Walk(m.AST, func(e condition.Expr) bool {
			id, ok := e.(*condition.Identifier)
			if !ok {
				return true
			}
			ref := c.rs.macros[id.Name]
			if ref == nil || ref.index >= m.visibility {
				c.add(diag.Error, ErrValidate, "Undefined macro '"+id.Name+"' used in filter.", m.Condition.Position(id.Offset), "macro '"+m.Name+"'")
				return true
			}
			ref.Used = true
			return true
		})
	}
	c.findMacroLoops()
}

// findMacroLoops reports macros that reach themselves through references.
func (c *compiler) findMacroLoops() {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(m *Macro)
	visit = func(m *Macro) {
		state[m.Name] = active
		condition.Walk(m.AST, func(e condition.Expr) bool {
			id, ok := e.(*condition.Identifier)
			if !ok {
				return true
			}
			ref := c.rs.macros[id.Name]
			if ref == nil || ref.AST == nil || ref.index >= m.visibility {
				return true
			}
			switch state[ref.Name] {
			case active:
				c.add(diag.Error, ErrValidate, "reference loop in macro '"+ref.Name+"'", m.Condition.Position(id.Offset), "macro '"+m.Name+"'")
				// cut the loop so later passes terminate
				ref.AST = nil
			case unseen:
				visit(ref)
			}
			return true
		})
		state[m.Name] = done
	}
	for _, m := range c.rs.Macros {
		if m.AST != nil && state[m.Name] == unseen {
			visit(m)
		}
	}
}

func (c *compiler) compileRules() {
	for _, r := range c.rs.Rules {
		if r.unknownSource {
			continue
		}
		c.compileRule(r)
	}
}

func (c *compiler) compileRule(r *Rule) {
	item := "rule '" + r.Name + "'"
	cond, ok := c.buildExceptions(r, item)
	if !ok {
		return
	}
	outputOK, skipped := c.checkOutput(r, item)
	if skipped {
		return
	}
	e := c.parse(cond, item)
	if e == nil {
		return
	}
	failed := !outputOK
	condition.Walk(e, func(n condition.Expr) bool {
		id, ok := n.(*condition.Identifier)
		if !ok {
			return true
		}
		m := c.rs.macros[id.Name]
		if m == nil {
			c.add(diag.Error, ErrValidate, "Undefined macro '"+id.Name+"' used in filter.", cond.Position(id.Offset), item)
			failed = true
			return true
		}
		m.Used = true
		return true
	})
	if failed {
		return
	}
	probs := c.checkExpr(e, cond, r.Source)
	probs = append(probs, c.macroProblemsIn(e, r.Source)...)
	var unknown *problem
	for i := range probs {
		if probs[i].unknown && r.SkipIfUnknownFilter {
			unknown = &probs[i]
			break
		}
	}
	if unknown != nil {
		c.add(diag.Warning, WarnUnknownFilter, unknown.msg, unknown.at, orItem(unknown.item, item))
		r.Skipped = true
		return
	}
	for _, p := range probs {
		sev := diag.Error
		if strings.HasPrefix(p.code, "LOAD_") && !strings.HasPrefix(p.code, "LOAD_ERR_") {
			sev = diag.Warning
		}
		c.add(sev, p.code, p.msg, p.at, orItem(p.item, item))
		if sev == diag.Error {
			failed = true
		}
	}
	if failed {
		return
	}
	r.Compiled = e
	if r.Source == "syscall" {
		r.EventTypes = c.evt.of(e)
		// Every release warns on an empty set as well; Falco master
		// exempts it (a statically unsatisfiable condition such as the
		// never_true idiom does not match too many event types).
		n := r.EventTypes.Codes()
		if r.WarnEvttypes && (n > 100 || (n == 0 && c.engine.Less(EngineNext))) {
			c.add(diag.Warning, WarnNoEvttype, "Rule matches too many evt.type values. This has a significant performance penalty.", r.At, item)
		}
	}
}

func orItem(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// buildExceptions compiles the rule's exceptions into its condition text the
// way Falco's rule compiler does.
func (c *compiler) buildExceptions(r *Rule, item string) (Text, bool) {
	t := r.Condition
	t.segs = append([]segment(nil), t.segs...)
	if len(r.Exceptions) == 0 {
		return t, true
	}
	t.wrap("(", ")")
	for _, ex := range r.Exceptions {
		var b strings.Builder
		if !ex.Fields.IsList {
			for _, v := range ex.Values {
				if v.IsList {
					c.add(diag.Error, ErrValidate, "Expected values array to contain a list of strings", ex.loc(v.node), item)
					return t, false
				}
				if b.Len() == 0 {
					b.WriteString("(" + ex.Fields.Item + " " + ex.Comps.Item + " (")
				} else {
					b.WriteString(", ")
				}
				b.WriteString(quoteItem(v.Item))
			}
			if b.Len() > 0 {
				b.WriteString("))")
			}
		} else {
			b.WriteString("(")
			for _, vals := range ex.Values {
				if len(ex.Fields.Items) != len(vals.Items) {
					c.add(diag.Error, ErrValidate, "Fields and values lists must have equal length", ex.loc(vals.node), item)
					return t, false
				}
				if b.String() != "(" {
					b.WriteString(" or ")
				}
				b.WriteString("(")
				for k, field := range ex.Fields.Items {
					if k > 0 {
						b.WriteString(" and ")
					}
					var istr string
					if v := vals.Items[k]; v.IsList {
						parts := make([]string, len(v.Items))
						for i, it := range v.Items {
							parts[i] = quoteItem(it.Item)
						}
						istr = "(" + strings.Join(parts, ", ") + ")"
					} else if condition.IsListOperator(ex.Comps.Items[k].Item) {
						istr = v.Item
						if !strings.HasPrefix(istr, "(") {
							istr = "(" + istr + ")"
						}
					} else {
						istr = quoteItem(v.Item)
					}
					b.WriteString(" " + field.Item + " " + ex.Comps.Items[k].Item + " " + istr)
				}
				b.WriteString(")")
			}
			b.WriteString(")")
			if b.String() == "()" {
				b.Reset()
			}
		}
		if b.Len() > 0 {
			t.appendRaw(" and not "+b.String(), ex.src, ex.node)
		}
	}
	return t, true
}

func quoteItem(s string) string {
	if strings.Contains(s, " ") && !strings.HasPrefix(s, `"`) && !strings.HasPrefix(s, "'") {
		return `"` + s + `"`
	}
	return s
}

// substituteBlankLists replaces, in the text, the names of lists that
// contain a blank by their items, as Falco's textual substitution does
// (rule_loader_compiler.cpp resolve_list): a name with a blank does not
// parse as one value, so it cannot be substituted after parsing like the
// others. Positions after a substitution may be off by the difference.
func (c *compiler) substituteBlankLists(cond string) string {
	if c.blankLists == nil {
		c.blankLists = []string{}
		for _, li := range c.rs.Lists {
			if strings.ContainsAny(li.Name, " \t\n\r") {
				c.blankLists = append(c.blankLists, li.Name)
			}
		}
	}
	for _, name := range c.blankLists {
		if !strings.Contains(cond, name) {
			continue
		}
		var quoted []string
		for _, it := range c.expanded[name] {
			if strings.Contains(it, " ") && !strings.HasPrefix(it, `"`) && !strings.HasPrefix(it, "'") {
				it = `"` + it + `"`
			}
			quoted = append(quoted, it)
		}
		if out, used := resolveList(cond, name, strings.Join(quoted, ", ")); used {
			cond = out
			c.rs.lists[name].Used = true
		}
	}
	return cond
}

// resolveList substitutes sub for each occurrence of name that delimiters
// (blanks, parentheses, commas, '=') or the text's ends surround,
// consuming the blanks around it; an empty sub also takes a neighbouring
// comma.
func resolveList(cond, name, sub string) (string, bool) {
	const blanks, delims = " \t\n\r", " \t\n\r(),="
	used := false
	for from := 0; ; {
		i := strings.Index(cond[from:], name)
		if i < 0 {
			return cond, used
		}
		start, end := from+i, from+i+len(name)
		if (start > 0 && !strings.ContainsRune(delims, rune(cond[start-1]))) || (end < len(cond) && !strings.ContainsRune(delims, rune(cond[end]))) {
			from = start + 1
			continue
		}
		for start > 0 && strings.ContainsRune(blanks, rune(cond[start-1])) {
			start--
		}
		for end < len(cond) && strings.ContainsRune(blanks, rune(cond[end])) {
			end++
		}
		if sub == "" {
			if start > 0 && cond[start-1] == ',' {
				start--
			} else if end < len(cond) && cond[end] == ',' {
				end++
			}
		}
		cond = cond[:start] + sub + cond[end:]
		from = start + len(sub)
		used = true
	}
}

// EngineHexEscapes is the engine whose libsinsp reads \xHH escapes in
// quoted strings (escaping.cpp, 2026-06, no release yet: Falco master);
// earlier ones refuse them.
var EngineHexEscapes = EngineNext

// hexEscape is the offset of the first quoted string holding a \x escape,
// -1 if none.
func hexEscape(cond string) int {
	if !strings.Contains(cond, `\x`) {
		return -1
	}
	var quote byte
	start := 0
	for i := 0; i < len(cond); i++ {
		ch := cond[i]
		switch {
		case quote == 0 && (ch == '"' || ch == '\''):
			quote, start = ch, i
		case quote != 0 && ch == '\\' && i+1 < len(cond):
			if cond[i+1] == 'x' {
				return start
			}
			i++
		case quote != 0 && ch == quote:
			quote = 0
		}
	}
	return -1
}
