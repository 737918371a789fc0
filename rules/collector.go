package rules

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

func (l *loader) findPrevRule(name, source string, item *yaml.Node) *Rule {
	prev := l.rs.rules[name]
	if prev != nil && prev.Source != "" && source != "" && prev.Source != source {
		// the explicit source is the culprit; without one the rule is a syscall rule
		l.fail(ErrValidate, "Rule has been re-defined with a different source", valueOr(get(item, "source"), item))
	}
	return prev
}

func (l *loader) defineRule(r *Rule, item *yaml.Node) {
	l.findPrevRule(r.Name, r.Source, item) // only to refuse a change of source
	if !fields.KnownSource(r.Source) {
		r.unknownSource = true
		r.Skipped = true
		l.warn(WarnUnknownSource, "Unknown source "+r.Source+", skipping", valueOr(get(item, "source"), item))
	}
	for _, ex := range r.Exceptions {
		if !ex.Fields.valid() {
			l.failAt(ErrValidate, "Rule exception item must have fields property with a list of fields", ex.loc(ex.Fields.node))
		}
		l.validateException(r, ex)
	}
	define(l, l.rs.rules, &l.rs.Rules, r)
}

func (l *loader) appendRule(name string, item *yaml.Node, u *ruleUpdate) {
	prev := l.findPrevRule(name, u.source, item)
	if prev == nil {
		l.fail(ErrValidate, msgNoPreviousAppend, item)
	}
	if !u.hasAnyValue() {
		l.fail(ErrValidate, "Appended rule must have exceptions or condition property", item)
	}
	if u.cond != nil && u.cond.Value != "" {
		prev.Condition.appendText(" ", *u.cond)
	}
	if u.output != nil && u.output.Value != "" {
		prev.Output.appendText(" ", *u.output)
	}
	if u.desc != nil && *u.desc != "" {
		prev.Desc += " " + *u.desc
	}
	if u.hasTags {
		prev.Tags = sortedSet(append(prev.Tags, u.tags...))
	}
	for _, ex := range u.exceptions {
		var old *Exception
		for _, pe := range prev.Exceptions {
			if pe.Name == ex.Name {
				old = pe
				break
			}
		}
		if old == nil {
			if !ex.Fields.valid() {
				l.failAt(ErrValidate, "Rule exception must have fields property with a list of fields", ex.loc(ex.Fields.node))
			}
			if len(ex.Values) == 0 {
				l.failAt(ErrValidate, "Rule exception must have values property with a list of values", ex.At)
			}
			l.validateException(prev, ex)
			prev.Exceptions = append(prev.Exceptions, ex)
			continue
		}
		if ex.Fields.valid() {
			l.failAt(ErrValidate, "Can not append exception fields to existing exception, only values", ex.loc(keyNode(ex.node, "fields")))
		}
		if ex.Comps.valid() {
			l.failAt(ErrValidate, "Can not append exception comps to existing exception, only values", ex.loc(keyNode(ex.node, "comps")))
		}
		old.Values = append(old.Values, ex.Values...)
	}
	prev.visibility = l.next()
}

func (l *loader) replaceRule(name string, item *yaml.Node, u *ruleUpdate) {
	prev := l.findPrevRule(name, u.source, item)
	if prev == nil {
		l.fail(ErrValidate, msgNoPreviousReplace, item)
	}
	if !u.hasAnyValue() {
		l.fail(ErrValidate, "The rule must have at least one field that can be replaced", item)
	}
	if u.cond != nil {
		prev.Condition = *u.cond
	}
	if u.output != nil {
		prev.Output = *u.output
	}
	if u.desc != nil {
		prev.Desc = *u.desc
	}
	if u.hasTags {
		prev.Tags = sortedSet(u.tags)
	}
	if u.hasExceptions {
		for _, ex := range u.exceptions {
			if !ex.Fields.valid() {
				l.failAt(ErrValidate, "Rule exception item must have fields property with a list of fields", ex.loc(ex.Fields.node))
			}
			l.validateException(prev, ex)
		}
		prev.Exceptions = u.exceptions
	}
	if u.priority != nil {
		prev.Priority = *u.priority
	}
	if u.capture != nil {
		prev.Capture = *u.capture
	}
	if u.captureDuration != nil {
		prev.CaptureDuration = *u.captureDuration
	}
	if u.enabled != nil {
		prev.Enabled = *u.enabled
	}
	if u.warnEvttypes != nil {
		prev.WarnEvttypes = *u.warnEvttypes
	}
	if u.skipUF != nil {
		prev.SkipIfUnknownFilter = *u.skipUF
	}
	prev.visibility = l.next()
}

// validateException applies Falco's checks on an exception's fields and
// comps, filling in the default comparison operators.
func (l *loader) validateException(r *Rule, ex *Exception) {
	checkField := func(f ExceptionEntry) {
		if r.unknownSource {
			return
		}
		if strings.Contains(f.Item, "(") && !l.engine.Less(EngineTransformerFields) && l.transformedField(r.Source, f.Item) {
			return
		}
		if _, err := l.lookupField(r.Source, f.Item); err != nil {
			l.failAt(ErrValidate, "'"+f.Item+"' is not a supported filter field", ex.loc(f.node))
		}
	}
	if ex.Fields.IsList {
		if !ex.Comps.valid() {
			ex.Comps = ExceptionEntry{IsList: true}
			for range ex.Fields.Items {
				ex.Comps.Items = append(ex.Comps.Items, ExceptionEntry{Item: "="})
			}
		}
		if len(ex.Fields.Items) != len(ex.Comps.Items) {
			l.failAt(ErrValidate, "Fields and comps lists must have equal length", ex.loc(ex.Comps.node))
		}
		for i := range ex.Comps.Items {
			c := &ex.Comps.Items[i]
			c.Item = strings.TrimSpace(c.Item)
			if !condition.IsOperator(c.Item) {
				l.failAt(ErrValidate, "'"+c.Item+"' is not a supported comparison operator", ex.loc(c.node))
			}
		}
		for _, f := range ex.Fields.Items {
			checkField(f)
		}
		return
	}
	if !ex.Comps.valid() {
		ex.Comps = ExceptionEntry{Item: "in"}
	}
	if ex.Comps.IsList {
		l.failAt(ErrValidate, "Fields and comps must both be strings", ex.loc(ex.Comps.node))
	}
	ex.Comps.Item = strings.TrimSpace(ex.Comps.Item)
	switch c := ex.Comps.Item; {
	case c == "in", c == "pmatch", c == "intersects", condition.IsModifierOperator(c):
	default:
		l.failAt(ErrValidate, "When fields is a single value, comps must be one of (in, pmatch, intersects) or a modifier operator (e.g. startswith oneof)", ex.loc(ex.Comps.node))
	}
	checkField(ex.Fields)
}

// EngineTransformerFields is the engine of Falco 0.38, whose exceptions
// accept a field wrapped in transformers (falco_source.h
// is_valid_lhs_field: "FIELD exists" must compile).
var EngineTransformerFields = Engine038

// transformedField reports whether "field exists" compiles: every
// transformer is known at the engine and every field exists.
func (l *loader) transformedField(source, field string) bool {
	e, err := condition.Parse(field + " exists")
	if err != nil {
		return false
	}
	ok := true
	condition.Walk(e, func(n condition.Expr) bool {
		switch x := n.(type) {
		case *condition.Transformer:
			if since, known := transformerSince[x.Name]; !known || l.engine.Less(since) {
				ok = false
			}
		case *condition.Field:
			if _, err := l.lookupField(source, x.Name); err != nil {
				ok = false
			}
		}
		return ok
	})
	return ok
}
