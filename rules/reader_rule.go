package rules

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

var ruleKeys = []string{"rule", "condition", "output", "desc", "priority", "source", "enabled", "capture",
	"capture_duration", "warn_evttypes", "skip-if-unknown-filter", "tags", "exceptions", "override", "append"}

// ruleUpdate is an append or replace of an existing rule.
type ruleUpdate struct {
	cond, output                  *Text
	desc                          *string
	tags                          []string
	hasTags                       bool
	exceptions                    []*Exception
	hasExceptions                 bool
	priority                      *Priority
	enabled, warnEvttypes, skipUF *bool
	capture                       *bool
	captureDuration               *uint64
	source                        string
}

func (u *ruleUpdate) hasAnyValue() bool {
	return u.cond != nil || u.output != nil || u.desc != nil || u.hasTags || u.hasExceptions || u.priority != nil ||
		u.enabled != nil || u.warnEvttypes != nil || u.skipUF != nil || u.capture != nil || u.captureDuration != nil
}

// ruleAppendable are the keys of a rule that an override may append to.
var ruleAppendable = map[string]bool{"condition": true, "output": true, "desc": true, "tags": true, "exceptions": true}

// ruleReplaceable are the keys of a rule that an override may replace, which
// grew with the engine version.
func (l *loader) ruleReplaceable() map[string]bool {
	replaceable := map[string]bool{"condition": true, "output": true, "desc": true, "priority": true, "tags": true,
		"exceptions": true, "enabled": true, "warn_evttypes": true, "skip-if-unknown-filter": true}
	if !l.engine.Less(Engine042) {
		replaceable["capture"], replaceable["capture_duration"] = true, true
	}
	return replaceable
}

// overrideKeys are keys of a rule by override operation: the keys an
// override may name, or the keys it does name.
type overrideKeys struct{ append, replace map[string]bool }

// readRule reads a rule item, which is one of three things: an override of
// an earlier rule, an append to one (the deprecated append: true), or a
// definition.
func (l *loader) readRule(item *yaml.Node) {
	name, _ := l.str(item, "rule")
	l.item = "rule '" + name + "'"
	source, _ := l.scalar(item, "source", true, true)
	appendFlag := l.readAppendFlag(item)

	allowed := overrideKeys{append: ruleAppendable, replace: l.ruleReplaceable()}
	var requested overrideKeys
	requested.append, requested.replace = l.overrides(item, allowed.append, allowed.replace)
	hasOverrides := len(requested.append) > 0 || len(requested.replace) > 0
	if appendFlag && hasOverrides {
		l.fail(ErrYAMLValidate, msgOverrideAppend, keyNode(item, "append"))
	}

	switch {
	case hasOverrides:
		l.readRuleOverride(item, name, source, allowed, requested)
	case appendFlag:
		l.readRuleAppend(item, name, source)
	default:
		l.readRuleDefinition(item, name)
	}
	l.warnUnknownKeys(item, ruleKeys...)
}

// readRuleOverride reads a rule with an override map: every overridable key
// the item has must be named under override, and every named key must be
// there.
func (l *loader) readRuleOverride(item *yaml.Node, name, source string, allowed, requested overrideKeys) {
	expected := map[string]bool{}
	for _, keys := range []map[string]bool{allowed.append, allowed.replace} {
		for k := range keys {
			if has(item, k) {
				expected[k] = true
			}
		}
	}
	check := func(ops map[string]bool, kind, key string) bool {
		if !ops[key] {
			return false
		}
		if !expected[key] {
			l.fail(ErrYAMLValidate, "An "+kind+" override for '"+key+"' was specified but '"+key+"' is not defined", keyNode(get(item, "override"), key))
		}
		delete(expected, key)
		return true
	}
	var appendU, replaceU *ruleUpdate
	if len(requested.append) > 0 {
		appendU = &ruleUpdate{}
		l.readUpdate(item, appendU, "append", source, func(k string) bool { return check(requested.append, "append", k) })
	}
	if len(requested.replace) > 0 {
		replaceU = &ruleUpdate{}
		l.readUpdate(item, replaceU, "replace", source, func(k string) bool { return check(requested.replace, "replace", k) })
	}
	for _, k := range ruleKeys {
		if expected[k] {
			l.fail(ErrYAMLValidate, "Unexpected key '"+k+"': no corresponding entry under 'override' is defined.", keyNode(item, k))
		}
	}
	if appendU != nil {
		l.appendRule(name, item, appendU)
	}
	if replaceU != nil {
		l.replaceRule(name, item, replaceU)
	}
}

// readRuleAppend reads a rule with the deprecated append: true, which may
// append to the condition and the exceptions.
func (l *loader) readRuleAppend(item *yaml.Node, name, source string) {
	u := &ruleUpdate{source: source}
	if has(item, "condition") {
		t := l.text(item, "condition")
		u.cond = &t
	}
	if has(item, "exceptions") {
		u.exceptions, u.hasExceptions = l.readExceptions(item, true), true
	}
	l.appendRule(name, item, u)
}

// readRuleDefinition reads a rule definition, or the deprecated form that
// only sets enabled on an earlier rule.
func (l *loader) readRuleDefinition(item *yaml.Node, name string) {
	if !has(item, "condition") && !has(item, "output") && !has(item, "desc") && !has(item, "priority") {
		l.readRuleEnabledOnly(item, name)
		return
	}
	r := &Rule{Name: name, Enabled: true, WarnEvttypes: true, At: l.at(item)}
	r.Condition = l.text(item, "condition")
	r.Output = l.text(item, "output")
	r.Desc, _ = l.str(item, "desc")
	r.Priority = l.priority(item)
	r.Source = "syscall"
	if s, sn := l.scalar(item, "source", true, false); sn != nil {
		r.Source = s
	}
	if b, ok := l.optBool(item, "enabled"); ok {
		r.Enabled = b
	}
	if b, ok := l.optBool(item, "capture"); ok {
		r.Capture = b
	}
	if d, ok := l.uint(item, "capture_duration", true); ok {
		r.CaptureDuration = d
	}
	if b, ok := l.optBool(item, "warn_evttypes"); ok {
		r.WarnEvttypes = b
	}
	if b, ok := l.optBool(item, "skip-if-unknown-filter"); ok {
		r.SkipIfUnknownFilter = b
	}
	tags, _ := l.seq(item, "tags", true)
	r.Tags = sortedSet(tags)
	r.Exceptions = l.readExceptions(item, false)
	l.defineRule(r, item)
}

// readRuleEnabledOnly reads the deprecated "- rule: x, enabled: false" form.
func (l *loader) readRuleEnabledOnly(item *yaml.Node, name string) {
	enabled := l.reqBool(item, "enabled")
	l.warn(WarnDeprecatedItem, msgWarnEnabled, keyNode(item, "enabled"))
	prev := l.rs.rules[name]
	if prev == nil {
		l.fail(ErrValidate, "Rule has 'enabled' key but no rule by that name already exists", item)
	}
	prev.Enabled = enabled
}

// priority decodes a rule's required priority.
func (l *loader) priority(item *yaml.Node) Priority {
	s, n := l.str(item, "priority")
	p, ok := ParsePriority(s)
	if !ok {
		l.fail(ErrYAMLValidate, "Invalid priority", n)
	}
	return p
}

func (l *loader) readUpdate(item *yaml.Node, u *ruleUpdate, kind, source string, want func(string) bool) {
	if want("condition") {
		u.source = source
		t := l.text(item, "condition")
		u.cond = &t
	}
	if want("exceptions") {
		u.exceptions, u.hasExceptions = l.readExceptions(item, kind == "append"), true
	}
	if want("output") {
		t := l.text(item, "output")
		u.output = &t
	}
	if want("desc") {
		d, _ := l.str(item, "desc")
		u.desc = &d
	}
	if want("tags") {
		u.tags, _ = l.seq(item, "tags", true)
		u.hasTags = true
	}
	if kind != "replace" {
		return
	}
	if want("priority") {
		p := l.priority(item)
		u.priority = &p
	}
	if want("capture") {
		b := l.reqBool(item, "capture")
		u.capture = &b
	}
	if want("capture_duration") {
		d, _ := l.uint(item, "capture_duration", false)
		u.captureDuration = &d
	}
	if want("enabled") {
		b := l.reqBool(item, "enabled")
		u.enabled = &b
	}
	if want("warn_evttypes") {
		b := l.reqBool(item, "warn_evttypes")
		u.warnEvttypes = &b
	}
	if want("skip-if-unknown-filter") {
		b := l.reqBool(item, "skip-if-unknown-filter")
		u.skipUF = &b
	}
}

// readExceptions decodes a rule's exceptions; in append mode fields are optional.
func (l *loader) readExceptions(item *yaml.Node, appendMode bool) []*Exception {
	exs := get(item, "exceptions")
	if isNull(exs) {
		return nil
	}
	if exs.Kind != yaml.SequenceNode {
		l.fail(ErrYAMLValidate, "Rule exceptions must be a sequence", exs)
	}
	var out []*Exception
	for _, ex := range exs.Content {
		ex = deref(ex)
		if ex.Kind != yaml.MappingNode {
			l.fail(ErrYAMLValidate, "Rule exception must be a mapping", ex)
		}
		name, _ := l.str(ex, "name")
		e := &Exception{Name: name, At: l.at(ex), src: l.src, node: ex}
		for _, prev := range out {
			if prev.Name == name {
				l.warn(WarnExceptionNotUnique, "Multiple definitions of exception '"+name+"' in the same rule", ex)
			}
		}
		if has(ex, "fields") || !appendMode {
			e.Fields = l.exceptionEntry(ex, "fields")
		}
		if has(ex, "comps") {
			e.Comps = l.exceptionEntry(ex, "comps")
		}
		if has(ex, "values") {
			vals := get(ex, "values")
			if vals == nil || vals.Kind != yaml.SequenceNode {
				l.fail(ErrYAMLValidate, "Rule exception values must be a sequence", valueOr(vals, ex))
			}
			for _, v := range vals.Content {
				e.Values = append(e.Values, l.entry(deref(v), 0))
			}
		} else if appendMode {
			l.warn(WarnAppendNoValues, "Overriding/appending exception with no values", ex)
		}
		out = append(out, e)
	}
	return out
}

func (l *loader) exceptionEntry(ex *yaml.Node, key string) ExceptionEntry {
	if !has(ex, key) {
		l.fail(ErrYAMLValidate, "Item has no mapping for key '"+key+"'", ex)
	}
	return l.entry(get(ex, key), 0)
}

// Limits on exception entries. Without aliases a file cannot hold more entry
// nodes than it has bytes, nor nest them deeper than a few levels usefully;
// aliases can make a small file describe exponentially many (or, with a
// self-referencing anchor, infinitely nested) values.
const (
	maxEntryDepth = 64
	entrySlack    = 1 << 16
)

func (l *loader) entry(v *yaml.Node, depth int) ExceptionEntry {
	var e ExceptionEntry
	if v == nil {
		return e
	}
	if l.entrySrc != l.src {
		l.entrySrc, l.entryNodes = l.src, 0
	}
	l.entryNodes++
	if depth > maxEntryDepth {
		l.fail(ErrYAMLValidate, fmt.Sprintf("Exception value nested more than %d levels deep (recursive alias?)", maxEntryDepth), v)
	}
	if l.entryNodes > len(l.src.Data)+entrySlack {
		l.fail(ErrYAMLValidate, "Exception values expand to too many entries (aliases?)", v)
	}
	e.node = v
	if isNull(v) {
		// yaml-cpp sees a null, neither a scalar nor a sequence: the entry
		// stays empty (e.g. "fields:" is then reported as missing fields).
		return e
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Value == "" {
			l.fail(ErrYAMLValidate, "Value must be non-empty", v)
		}
		e.Item = v.Value
	case yaml.SequenceNode:
		e.IsList = true
		for _, c := range v.Content {
			e.Items = append(e.Items, l.entry(deref(c), depth+1))
		}
	}
	return e
}
