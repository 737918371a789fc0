package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

// problem is a check failure found in a condition or output.
type problem struct {
	code    string
	msg     string
	at      diag.Position
	item    string // the item the problem is in, when not the rule being compiled
	unknown bool   // an unknown field or event type: skip-if-unknown-filter turns it into a warning
}

// compiler checks the collected items as Falco's rule compiler does.
type compiler struct {
	rs         *Ruleset
	engine     Version
	expanded   map[string][]string // list name -> items with referenced lists expanded
	macroProbs map[string][]problem
	inProgress map[string]bool
	evt        *evttypeResolver
	reported   map[string]bool
}

func (l *loader) compile() {
	c := &compiler{rs: l.rs, engine: l.engine, expanded: map[string][]string{},
		macroProbs: map[string][]problem{}, inProgress: map[string]bool{}, reported: map[string]bool{}}
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
	e, err := condition.Parse(t.S)
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
				l := &condition.List{Values: append([]string(nil), items...)}
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

func (c *compiler) expandValues(vals []string) []string {
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
		if r.WarnEvttypes && r.EventTypes.Codes() > 100 {
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

// macroProblemsIn returns the problems of every macro the expression reaches.
func (c *compiler) macroProblemsIn(e condition.Expr, source string) []problem {
	var out []problem
	condition.Walk(e, func(n condition.Expr) bool {
		if id, ok := n.(*condition.Identifier); ok {
			out = append(out, c.macroProblems(id.Name, source)...)
		}
		return true
	})
	return out
}

// macroProblems checks a macro (and the macros it uses) for a source, once.
func (c *compiler) macroProblems(name, source string) []problem {
	key := source + "\x00" + name
	if p, ok := c.macroProbs[key]; ok {
		return p
	}
	m := c.rs.macros[name]
	if m == nil || m.AST == nil || c.inProgress[key] {
		return nil
	}
	c.inProgress[key] = true
	probs := c.checkExpr(m.AST, m.Condition, source)
	for i := range probs {
		probs[i].item = "macro '" + name + "'"
	}
	probs = append(probs, c.macroProblemsIn(m.AST, source)...)
	delete(c.inProgress, key)
	c.macroProbs[key] = probs
	return probs
}

var deprecatedFields = []string{"evt.dir", "evt.latency", "evt.latency.s", "evt.latency.ns", "evt.latency.human", "evt.wait_latency"}

func isDeprecatedField(name string) bool {
	for _, d := range deprecatedFields {
		if name == d {
			return true
		}
	}
	return false
}

// checkExpr checks the fields, operators, transformers and values of one
// expression (macro references are checked separately).
func (c *compiler) checkExpr(e condition.Expr, t Text, source string) []problem {
	var probs []problem
	add := func(p problem) { probs = append(probs, p) }
	condition.Walk(e, func(n condition.Expr) bool {
		switch x := n.(type) {
		case *condition.Field:
			if p := c.checkField(source, x); p != nil {
				p.at = t.Position(x.Offset)
				add(*p)
			}
			if !c.engine.Less(Engine042) && isDeprecatedField(x.Name) {
				add(problem{code: WarnDeprecatedItem, at: t.Position(x.Offset),
					msg: "usage of deprecated field '" + x.Name + "': Falco 0.42 dropped enter events, so conditions on it no longer work as written"})
			}
		case *condition.Transformer:
			if since, ok := transformerSince[x.Name]; ok && c.engine.Less(since) {
				add(problem{code: ErrCompileCondition, at: t.Position(x.Offset),
					msg: fmt.Sprintf("transformer '%s' needs engine version %s (%s) or newer, but the engine version is %s", x.Name, since, FalcoForEngine(since), c.engine)})
			}
		case *condition.UnaryCheck:
			// libsinsp's event code search visits the left side of every
			// unary check, and fails on evt.type inside a transformer.
			if tr, ok := x.Left.(*condition.Transformer); ok && source == "syscall" && evtTypeInTransformer(tr) {
				add(problem{code: ErrCompileCondition, at: t.Position(x.Offset), msg: msgEvtTypeTransformer})
			}
		case *condition.BinaryCheck:
			c.checkOperator(x, t, source, add)
		}
		return true
	})
	return probs
}

func (c *compiler) checkOperator(x *condition.BinaryCheck, t Text, source string, add func(problem)) {
	// positions are costly to compute: only for problems
	at := func() diag.Position { return t.Position(x.Offset) }
	op := x.Op
	if condition.IsModifierOperator(op) && c.engine.Less(modifierSince) {
		add(problem{code: ErrCompileCondition, at: at(),
			msg: fmt.Sprintf("operator '%s' needs engine version %s (%s) or newer, but the engine version is %s", op, modifierSince, FalcoForEngine(modifierSince), c.engine)})
	}
	if since, ok := operatorSince[op]; ok && c.engine.Less(since) {
		add(problem{code: ErrCompileCondition, at: at(),
			msg: fmt.Sprintf("operator '%s' needs engine version %s (%s) or newer, but the engine version is %s", op, since, FalcoForEngine(since), c.engine)})
	}
	if tr, ok := x.Left.(*condition.Transformer); ok && source == "syscall" && isEvtTypeOperator(op) && evtTypeInTransformer(tr) {
		add(problem{code: ErrCompileCondition, at: at(), msg: msgEvtTypeTransformer})
	}
	f, isField := x.Left.(*condition.Field)
	if !isField {
		return
	}
	if p := c.checkNumbers(source, f, x); p != nil {
		p.at = t.Position(x.Right.Pos())
		add(*p)
	}
	// Falco warns about comparing audit fields with "<NA>": use exists.
	if (strings.HasPrefix(f.Name, "ka.") || strings.HasPrefix(f.Name, "jevt.")) && isEqualityOp(op) && hasValue(x.Right, "<NA>") {
		add(problem{code: WarnUnsafeNACheck, at: at(), msg: "comparison with '<NA>' is unsafe; use 'exists' instead"})
	}
	if f.Name == "evt.type" && !f.HasArg && source == "syscall" {
		var names []string
		switch r := x.Right.(type) {
		case *condition.Value:
			names = []string{r.Value}
		case *condition.List:
			names = r.Values
		case *condition.Field, *condition.Transformer:
			if op == "=" || op == "==" || op == "!=" || op == "in" {
				add(problem{code: ErrCompileCondition, at: at(), msg: "right-hand field comparisons on `evt.type`/`syscall.type` checks are not supported by event code search"})
			}
		}
		for _, n := range names {
			if !fields.KnownEvent(n) {
				add(problem{code: ErrCompileCondition, at: t.Position(x.Right.Pos()), unknown: true, msg: "unknown event type " + n})
			}
		}
	}
}

// checkNumbers rejects values that are not numbers compared with integer
// fields, which libsinsp cannot convert when it compiles the filter.
func (c *compiler) checkNumbers(source string, f *condition.Field, x *condition.BinaryCheck) *problem {
	switch x.Op {
	case "=", "==", "!=", "<", "<=", ">", ">=", "in":
	default:
		return nil
	}
	fd, dotted, ok := fields.Lookup(source, f.Name)
	if !ok || dotted != "" || !isIntegerType(fd.Type) {
		return nil
	}
	var vals []string
	switch r := x.Right.(type) {
	case *condition.Value:
		if x.Op == "in" {
			return nil // an unknown list name: compared as text by Falco
		}
		vals = []string{r.Value}
	case *condition.List:
		vals = r.Values
	}
	for _, v := range vals {
		if isDecimal(v) {
			continue
		}
		return &problem{code: ErrCompileCondition, msg: fmt.Sprintf("field '%s' is a number (%s) but is compared with '%s'", f.Name, fd.Type, v)}
	}
	return nil
}

// isDecimal reports whether v is a decimal integer, the only form libsinsp
// converts for integer fields.
func isDecimal(v string) bool {
	v = strings.TrimLeft(v, "+-")
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

func isIntegerType(t string) bool {
	switch t {
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64":
		return true
	}
	return false
}

func isEqualityOp(op string) bool {
	switch op {
	case "=", "==", "!=", "in", "intersects", "pmatch":
		return true
	}
	return false
}

func hasValue(e condition.Expr, v string) bool {
	switch r := e.(type) {
	case *condition.Value:
		return r.Value == v
	case *condition.List:
		for _, x := range r.Values {
			if x == v {
				return true
			}
		}
	}
	return false
}

// checkField checks that a field exists for the source and engine and that
// its argument fits.
func (c *compiler) checkField(source string, x *condition.Field) *problem {
	fd, dotted, ok := fields.Lookup(source, x.Name)
	if ok && fd.Since != "" {
		if since, err := ParseVersion(fd.Since); err == nil && c.engine.Less(since) {
			return &problem{code: ErrCompileCondition, unknown: true,
				msg: fmt.Sprintf("field '%s' needs engine version %s (%s) or newer, but the engine version is %s", x.Name, since, FalcoForEngine(since), c.engine)}
		}
	}
	if ok && fd.Until != "" {
		if until, err := ParseVersion(fd.Until); err == nil && !c.engine.Less(until) {
			ok = false
		}
	}
	if !ok {
		return &problem{code: ErrCompileCondition, unknown: true,
			msg: fmt.Sprintf("unknown field '%s' for source '%s'", x.Name, source)}
	}
	switch {
	case dotted != "" && x.HasArg:
		return &problem{code: ErrCompileCondition, msg: fmt.Sprintf("field '%s' already has the argument '%s' and cannot take another", x.Name, dotted)}
	case fd.Arg == fields.ArgNone && x.HasArg:
		return &problem{code: ErrCompileCondition, msg: fmt.Sprintf("field '%s' does not take an argument", x.Name)}
	case fd.Arg == fields.ArgRequired && !x.HasArg && dotted == "":
		return &problem{code: ErrCompileCondition, msg: fmt.Sprintf("field '%s' requires an argument, e.g. %s[...]", x.Name, x.Name)}
	case x.HasArg && fd.ArgIndex && !fd.ArgKey:
		if _, err := strconv.Atoi(x.Arg); err != nil {
			return &problem{code: ErrCompileCondition, msg: fmt.Sprintf("field '%s' takes a numeric argument, not '%s'", x.Name, x.Arg)}
		}
	}
	return nil
}

// lookupField checks a field as written in an exception's fields.
func (l *loader) lookupField(source, s string) (fields.Field, error) {
	e, n, err := condition.ParseField(s)
	if err != nil || n != len(s) {
		return fields.Field{}, fmt.Errorf("not a field")
	}
	f, ok := e.(*condition.Field)
	if !ok {
		return fields.Field{}, fmt.Errorf("not a field")
	}
	c := &compiler{engine: l.engine}
	if p := c.checkField(source, f); p != nil {
		return fields.Field{}, fmt.Errorf("%s", p.msg)
	}
	fd, _, _ := fields.Lookup(source, f.Name)
	return fd, nil
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

// checkOutput checks the fields of a rule's output format. It reports whether
// the output is valid, and whether the rule is skipped (an unknown field with
// skip-if-unknown-filter).
func (c *compiler) checkOutput(r *Rule, item string) (ok, skipped bool) {
	out := r.Output
	s := out.S
	if i := strings.Index(s, "%container.info"); i >= 0 {
		if !c.engine.Less(Engine041) {
			c.add(diag.Warning, WarnDeprecatedItem, "%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.", r.At, item)
		}
	}
	if !c.engine.Less(Engine042) {
		for _, d := range deprecatedFields {
			if i := strings.Index(s, d); i >= 0 {
				c.add(diag.Warning, WarnDeprecatedItem, "usage of deprecated field '"+d+"' has been detected in the rule output", out.Position(i), item)
			}
		}
	}
	probs := c.outputProblems(s, out, r.Source)
	if len(probs) == 0 {
		return true, false
	}
	// Like Falco, stop at the first problem of an output.
	p := probs[0]
	if p.unknown && r.SkipIfUnknownFilter {
		c.add(diag.Warning, WarnUnknownFilter, p.msg, p.at, item)
		r.Skipped = true
		return false, true
	}
	c.add(diag.Error, ErrCompileOutput, p.msg, p.at, item)
	return false, false
}

func (c *compiler) outputProblems(s string, t Text, source string) []problem {
	var probs []problem
	start := 0
	if strings.HasPrefix(s, "*") {
		start = 1
	}
	for j := start; j < len(s); j++ {
		if s[j] != '%' {
			continue
		}
		if j == len(s)-1 {
			return append(probs, problem{at: t.Position(j), msg: "invalid formatting syntax: formatting cannot end with a %"})
		}
		k := j + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == len(s) {
			return append(probs, problem{at: t.Position(j), msg: "invalid formatting syntax: formatting cannot end with a number"})
		}
		if strings.HasPrefix(s[k:], "container.info") {
			j = k + len("container.info") - 1
			continue
		}
		n, p := c.outputToken(s[k:], source)
		if p != nil {
			p.at = t.Position(j)
			return append(probs, *p)
		}
		j = k + n - 1
	}
	return probs
}

// outputToken finds the longest prefix of s that is a known field or
// transformer, as Falco's formatter does by shrinking the candidate.
func (c *compiler) outputToken(s, source string) (int, *problem) {
	var first *problem
	for k := len(s); k > 0; {
		e, n, err := condition.ParseField(s[:k])
		if err != nil {
			k--
			continue
		}
		p := c.outputFieldProblem(e, source)
		if p == nil {
			return n, nil
		}
		if first == nil {
			first = p
		}
		k = n - 1
	}
	if first == nil {
		first = &problem{msg: "invalid output field"}
	}
	first.unknown = true
	first.msg = "invalid output format: " + first.msg
	return 0, first
}

func (c *compiler) outputFieldProblem(e condition.Expr, source string) *problem {
	var p *problem
	condition.Walk(e, func(n condition.Expr) bool {
		if f, ok := n.(*condition.Field); ok && p == nil {
			p = c.checkField(source, f)
		}
		return p == nil
	})
	return p
}
