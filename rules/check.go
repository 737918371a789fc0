package rules

import (
	"fmt"
	"slices"
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

// macroProblemsIn returns the problems of every macro the expression
// reaches, each macro once: a macro reached along many paths (a chain of
// macros each using the previous one twice) is not reported per path.
func (c *compiler) macroProblemsIn(e condition.Expr, source string) []problem {
	var out []problem
	seen := map[string]bool{}
	var visit func(e condition.Expr)
	visit = func(e condition.Expr) {
		condition.Walk(e, func(n condition.Expr) bool {
			id, ok := n.(*condition.Identifier)
			if !ok || seen[id.Name] {
				return true
			}
			seen[id.Name] = true
			m := c.rs.macros[id.Name]
			if m == nil || m.AST == nil {
				return true
			}
			out = append(out, c.macroProblems(m, source)...)
			visit(m.AST)
			return true
		})
	}
	visit(e)
	return out
}

// macroProblems checks a macro's own condition for a source, once.
func (c *compiler) macroProblems(m *Macro, source string) []problem {
	key := source + "\x00" + m.Name
	if p, ok := c.macroProbs[key]; ok {
		return p
	}
	probs := c.checkExpr(m.AST, m.Condition, source)
	for i := range probs {
		probs[i].item = "macro '" + m.Name + "'"
	}
	c.macroProbs[key] = probs
	return probs
}

var deprecatedFields = []string{"evt.dir", "evt.latency", "evt.latency.s", "evt.latency.ns", "evt.latency.human", "evt.wait_latency"}

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
			if !c.engine.Less(Engine042) && slices.Contains(deprecatedFields, x.Name) {
				add(problem{code: WarnDeprecatedItem, at: t.Position(x.Offset),
					msg: "usage of deprecated field '" + x.Name + "': Falco 0.42 dropped enter events, so conditions on it no longer work as written"})
			}
		case *condition.Transformer:
			if since, ok := transformerSince[x.Name]; ok && c.engine.Less(since) {
				add(problem{code: ErrCompileCondition, at: t.Position(x.Offset),
					msg: fmt.Sprintf("transformer '%s' needs engine version %s (%s) or newer, but the engine version is %s", x.Name, since, FalcoForEngine(since), c.engine)})
			}
			if msg := transformerArgProblem(x); msg != "" {
				add(problem{code: ErrCompileCondition, at: t.Position(x.Offset), msg: msg})
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
	for _, w := range c.valueWarnings(source, x) {
		add(problem{code: WarnCompileCondition, at: at(), msg: w})
	}
	if tr, ok := x.Left.(*condition.Transformer); ok {
		if p := c.checkTransformed(source, tr, x.Op); p != nil {
			p.at = at()
			add(*p)
		}
	}
	if p := c.rhsFieldProblem(source, x); p != nil {
		p.at = at()
		add(*p)
	}
	f, isField := x.Left.(*condition.Field)
	if !isField {
		return
	}
	if fd, dotted, ok := fields.Lookup(source, f.Name); ok {
		// A dotted argument (evt.arg.fd) keeps the field's type.
		if p := c.checkTypes(fd, x); p != nil {
			p.at = at()
			add(*p)
		} else if p := checkNumbers(fd, f, x); dotted == "" && p != nil {
			p.at = t.Position(x.Right.Pos())
			add(*p)
		}
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
func checkNumbers(fd fields.Field, f *condition.Field, x *condition.BinaryCheck) *problem {
	switch x.Op {
	case "=", "==", "!=", "<", "<=", ">", ">=", "in":
	default:
		return nil
	}
	if !isIntegerType(fd.Type) {
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
		// sinsp_numparser's text (utils.cpp)
		return &problem{code: ErrCompileCondition, msg: v + " is not a valid number"}
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
		return slices.Contains(r.Values, v)
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

// checkOutput checks the fields of a rule's output format. It reports whether
// the output is valid, and whether the rule is skipped (an unknown field with
// skip-if-unknown-filter).
func (c *compiler) checkOutput(r *Rule, item string) (ok, skipped bool) {
	out := r.Output
	s := out.Value
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
	// Like Falco, stop at the first problem of an output.
	p := c.outputProblem(s, out, r.Source)
	if p == nil {
		return true, false
	}
	if p.unknown && r.SkipIfUnknownFilter {
		c.add(diag.Warning, WarnUnknownFilter, p.msg, p.at, item)
		r.Skipped = true
		return false, true
	}
	c.add(diag.Error, ErrCompileOutput, p.msg, p.at, item)
	return false, false
}

// outputProblem returns the first problem of an output format: a reference
// that ends the format early, or a field that is not known for the source.
func (c *compiler) outputProblem(s string, t Text, source string) *problem {
	for sc := NewOutputScanner(s); sc.Next(); {
		j, k := sc.Percent(), sc.Field()
		switch {
		case j == len(s)-1:
			return &problem{at: t.Position(j), msg: "invalid formatting syntax: formatting cannot end with a %"}
		case k == len(s):
			return &problem{at: t.Position(j), msg: "invalid formatting syntax: formatting cannot end with a number"}
		case strings.HasPrefix(s[k:], "container.info"):
			sc.Skip(len("container.info"))
			continue
		}
		n, p := c.outputToken(s[k:], source)
		if p != nil {
			p.at = t.Position(j)
			return p
		}
		sc.Skip(n)
	}
	return nil
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
