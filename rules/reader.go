package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"
)

// Messages Falco uses, kept verbatim so users can search for them.
const (
	msgWarnAppend        = "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."
	msgWarnEnabled       = "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace')."
	msgOverrideAppend    = "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead."
	msgNoPreviousMacro   = "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists"
	msgNoPreviousList    = "List uses 'append' or 'override.items: append' but no list by that name already exists"
	msgNoPreviousAppend  = "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"
	msgNoPreviousReplace = "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"
)

var (
	rgxIdentifier = regexp.MustCompile(`^[a-zA-Z]+[a-zA-Z0-9_]*$`)
	rgxBareStr    = regexp.MustCompile(`^[^()"'\s=,]+$`)
)

// loadError is an error that ends the processing of one item, like Falco's
// rule_load_exception. It is raised with panic and recovered per item.
type loadError struct {
	code string
	msg  string
	at   diag.Position
}

// loader collects the items of one or more files, in order, into a Ruleset.
type loader struct {
	rs     *Ruleset
	engine Version
	index  int
	src    *Source
	item   string // the item being read, for findings

	// entryNodes counts the exception entry nodes decoded from entrySrc,
	// to bound what aliases can expand to.
	entryNodes int
	entrySrc   *Source
}

func (l *loader) fail(code, msg string, n *yaml.Node) {
	panic(&loadError{code: code, msg: msg, at: l.at(n)})
}

func (l *loader) failAt(code, msg string, at diag.Position) {
	panic(&loadError{code: code, msg: msg, at: at})
}

func (l *loader) warn(code, msg string, n *yaml.Node) {
	l.rs.Findings = append(l.rs.Findings, diag.Finding{Code: code, Severity: diag.Warning, Message: msg,
		Position: nodePos(n).In(l.src.Name), Item: l.item})
}

func (l *loader) at(n *yaml.Node) diag.Position { return nodePos(n).In(l.src.Name) }

// yamlError turns a YAML decoder error into a finding. The decoder names only
// the line, so the column is that of the line's first character.
func yamlError(src *Source, err error) diag.Finding {
	msg, line := diag.FromYAML(err)
	pos := diag.Position{Line: 1, Column: 1}
	if line > 0 {
		pos.Line = min(line, len(src.lines()))
		pos.Column = firstColumn(src, pos.Line)
	}
	return diag.Finding{Code: ErrYAMLParse, Severity: diag.Error, Message: msg, Position: pos.In(src.Name)}
}

// firstColumn is the column of the first non-blank character of a line.
func firstColumn(src *Source, line int) int {
	off := src.offset(line, 1)
	col := 1
	for off < len(src.Data) && (src.Data[off] == ' ' || src.Data[off] == '\t') {
		off++
		col++
	}
	return col
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func (l *loader) readDocument(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		return
	}
	if root.Kind == yaml.ScalarNode {
		l.rs.Findings = append(l.rs.Findings, diag.Finding{Code: ErrYAMLValidate, Severity: diag.Error,
			Message: "Rules content is not yaml", Position: nodePos(root).In(l.src.Name)})
		return
	}
	if root.Kind != yaml.SequenceNode {
		l.rs.Findings = append(l.rs.Findings, diag.Finding{Code: ErrYAMLValidate, Severity: diag.Error,
			Message: "Rules content is not yaml array of objects", Position: nodePos(root).In(l.src.Name)})
		return
	}
	for _, item := range root.Content {
		if isNull(item) {
			continue
		}
		l.readItemSafely(deref(item))
	}
}

func (l *loader) readItemSafely(item *yaml.Node) {
	l.item = ""
	defer func() {
		if r := recover(); r != nil {
			le, ok := r.(*loadError)
			if !ok {
				panic(r)
			}
			l.rs.Findings = append(l.rs.Findings, diag.Finding{Code: le.code, Severity: diag.Error,
				Message: le.msg, Position: le.at, Item: l.item})
		}
	}()
	l.readItem(item)
}

// get returns the value of key in a mapping, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// keyNode returns the key node of key in a mapping, or the mapping itself.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func has(m *yaml.Node, key string) bool {
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// scalar decodes a required or optional non-empty scalar as Falco's
// decode_val does. It returns the value node (nil when absent and optional).
func (l *loader) scalar(item *yaml.Node, key string, optional, canBeEmpty bool) (string, *yaml.Node) {
	if !has(item, key) {
		if optional {
			return "", nil
		}
		l.fail(ErrYAMLValidate, "Item has no mapping for key '"+key+"'", item)
	}
	v := get(item, key)
	if isNull(v) {
		if canBeEmpty {
			return "", nil
		}
		l.fail(ErrYAMLValidate, "Mapping for key '"+key+"' is empty", keyNode(item, key))
	}
	if v.Kind != yaml.ScalarNode {
		l.fail(ErrYAMLValidate, "Value is not a scalar value", v)
	}
	if v.Value == "" && !canBeEmpty {
		l.fail(ErrYAMLValidate, "Value must be non-empty", v)
	}
	return v.Value, v
}

func (l *loader) str(item *yaml.Node, key string) (string, *yaml.Node) {
	return l.scalar(item, key, false, false)
}

func parseBool(s string) (bool, bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

// optBool decodes an optional boolean; present reports whether it was given.
func (l *loader) optBool(item *yaml.Node, key string) (value, present bool) {
	s, n := l.scalar(item, key, true, false)
	if n == nil {
		return false, false
	}
	b, ok := parseBool(s)
	if !ok {
		l.fail(ErrYAMLValidate, "Can't decode YAML scalar value", n)
	}
	return b, true
}

func (l *loader) reqBool(item *yaml.Node, key string) bool {
	s, n := l.str(item, key)
	b, ok := parseBool(s)
	if !ok {
		l.fail(ErrYAMLValidate, "Can't decode YAML scalar value", n)
	}
	return b
}

func (l *loader) uint(item *yaml.Node, key string, optional bool) (uint64, bool) {
	s, n := l.scalar(item, key, optional, false)
	if n == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		l.fail(ErrYAMLValidate, "Can't decode YAML scalar value", n)
	}
	return v, true
}

// seq decodes a sequence of scalars (items, tags).
func (l *loader) seq(item *yaml.Node, key string, optional bool) ([]string, bool) {
	if !has(item, key) {
		if optional {
			return nil, false
		}
		l.fail(ErrYAMLValidate, "Item has no mapping for key '"+key+"'", item)
	}
	v := get(item, key)
	if v.Kind != yaml.SequenceNode {
		l.fail(ErrYAMLValidate, "Value is not a sequence", v)
	}
	out := make([]string, 0, len(v.Content))
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode {
			l.fail(ErrYAMLValidate, "sequence value is not scalar", e)
		}
		out = append(out, e.Value)
	}
	return out, true
}

// overrides decodes the override map into the keys to append and replace.
func (l *loader) overrides(item *yaml.Node, appendable, replaceable map[string]bool) (app, repl map[string]bool) {
	app, repl = map[string]bool{}, map[string]bool{}
	if !has(item, "override") {
		return
	}
	ov := get(item, "override")
	if l.engine.Less(Engine037) {
		l.fail(ErrYAMLValidate, fmt.Sprintf("'override' needs engine version %s (Falco 0.37) or newer, but the engine version is %s", Engine037, l.engine), keyNode(item, "override"))
	}
	if isNull(ov) {
		return
	}
	if ov.Kind != yaml.MappingNode {
		l.fail(ErrYAMLValidate, "Value of 'override' must be a mapping of key to append or replace", ov)
	}
	for i := 0; i+1 < len(ov.Content); i += 2 {
		k, v := ov.Content[i], deref(ov.Content[i+1])
		key, op := k.Value, v.Value
		if v.Kind != yaml.ScalarNode {
			op = ""
		}
		switch op {
		case "append":
			if !appendable[key] {
				l.fail(ErrYAMLValidate, "Key '"+key+"' cannot be appended to, use 'replace' instead", k)
			}
			app[key] = true
		case "replace":
			if !replaceable[key] {
				l.fail(ErrYAMLValidate, "Key '"+key+"' cannot be replaced", k)
			}
			repl[key] = true
		default:
			msg := "Invalid override operation for key '" + key + "': '" + op + "'. Allowed values are: "
			if appendable[key] {
				msg += "append "
			}
			if replaceable[key] {
				msg += "replace "
			}
			l.fail(ErrYAMLValidate, msg, v)
		}
	}
	return
}

func (l *loader) warnUnknownKeys(item *yaml.Node, expected ...string) {
	if l.engine.Less(Engine044) {
		return
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k := item.Content[i]
		known := false
		for _, e := range expected {
			if k.Value == e {
				known = true
				break
			}
		}
		if !known {
			l.warn(WarnUnknownKey, "Unknown key '"+k.Value+"'. The key will be ignored.", k)
		}
	}
}

func (l *loader) readItem(item *yaml.Node) {
	if item.Kind != yaml.MappingNode {
		l.fail(ErrYAMLValidate, "Unexpected element type. Each element should be a yaml associative array.", item)
	}
	switch {
	case has(item, "required_engine_version"):
		l.item = "required_engine_version"
		l.readEngineVersion(item)
	case has(item, "required_plugin_versions"):
		l.item = "required_plugin_versions"
		l.readPluginVersions(item)
	case has(item, "list"):
		l.readList(item)
	case has(item, "macro"):
		l.readMacro(item)
	case has(item, "rule"):
		l.readRule(item)
	default:
		l.warn(WarnUnknownItem, "Unknown top level item", item)
	}
}

func (l *loader) readEngineVersion(item *yaml.Node) {
	s, n := l.str(item, "required_engine_version")
	var v Version
	if isUint32(s) {
		minor, _ := strconv.ParseUint(s, 10, 32)
		v = Version{0, minor, 0}
	} else {
		if l.engine.Less(Engine037) {
			l.fail(ErrYAMLValidate, fmt.Sprintf("engine version '%s' in x.y.z form needs Falco 0.37 (engine 0.31.0) or newer; use the integer form for engine %s", s, l.engine), n)
		}
		var err error
		if v, err = ParseVersion(s); err != nil {
			l.fail(ErrYAMLValidate, "Unable to parse engine version '"+s+"' as a semver string. Expected \"x.y.z\" semver format.", n)
		}
	}
	if !l.engine.Satisfies(v) {
		l.fail(ErrValidate, "Rules require engine version "+v.String()+", but engine version is "+l.engine.String(), n)
	}
	if l.rs.RequiredEngine.Less(v) {
		l.rs.RequiredEngine = v
		l.rs.RequiredEngineAt = l.at(n)
	}
	l.warnUnknownKeys(item, "required_engine_version")
}

func isUint32(s string) bool {
	if s == "" {
		return false
	}
	_, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 32)
	return err == nil
}

func (l *loader) readPluginVersions(item *yaml.Node) {
	reqs := get(item, "required_plugin_versions")
	if reqs == nil || reqs.Kind != yaml.SequenceNode {
		l.fail(ErrYAMLValidate, "Value of required_plugin_versions must be a sequence", valueOr(reqs, item))
	}
	for _, p := range reqs.Content {
		p = deref(p)
		if p.Kind != yaml.MappingNode {
			l.fail(ErrYAMLValidate, "Plugin version must be a mapping", p)
		}
		name, nn := l.str(p, "name")
		version, vn := l.str(p, "version")
		req := PluginRequirement{At: l.at(p), Alternatives: []PluginVersion{{name, version}}}
		nodes, nameNodes := []*yaml.Node{vn}, []*yaml.Node{nn}
		if has(p, "alternatives") {
			alts := get(p, "alternatives")
			if alts == nil || alts.Kind != yaml.SequenceNode {
				l.fail(ErrYAMLValidate, "Value of plugin version alternatives must be a sequence", valueOr(alts, p))
			}
			for _, a := range alts.Content {
				a = deref(a)
				if a.Kind != yaml.MappingNode {
					l.fail(ErrYAMLValidate, "Plugin version alternative must be a mapping", a)
				}
				an, ann := l.str(a, "name")
				av, avn := l.str(a, "version")
				req.Alternatives = append(req.Alternatives, PluginVersion{an, av})
				nodes, nameNodes = append(nodes, avn), append(nameNodes, ann)
			}
		}
		seen := map[string]bool{}
		for i, alt := range req.Alternatives {
			if _, err := ParseVersion(alt.Version); err != nil {
				l.fail(ErrValidate, "Invalid required version '"+alt.Version+"' for plugin '"+alt.Name+"'", nodes[i])
			}
			if seen[alt.Name] {
				l.fail(ErrValidate, "Defined multiple alternative version requirements for plugin '"+alt.Name+"'", nameNodes[i])
			}
			seen[alt.Name] = true
		}
		l.rs.Plugins = append(l.rs.Plugins, req)
	}
	l.warnUnknownKeys(item, "required_plugin_versions")
}

func valueOr(v, fallback *yaml.Node) *yaml.Node {
	if v != nil {
		return v
	}
	return fallback
}

// readAppendFlag decodes the deprecated append key and warns about it.
func (l *loader) readAppendFlag(item *yaml.Node) bool {
	app, _ := l.optBool(item, "append")
	if app {
		l.warn(WarnDeprecatedItem, msgWarnAppend, keyNode(item, "append"))
	}
	return app
}

func (l *loader) readList(item *yaml.Node) {
	name, nn := l.str(item, "list")
	l.item = "list '" + name + "'"
	if !l.engine.Less(Engine038) && !rgxBareStr.MatchString(name) {
		l.warn(WarnInvalidListName, `List has an invalid name. List names should match a regular expression: ([^()"'[:space:]=,]+)`, nn)
	}
	items, _ := l.seq(item, "items", false)
	app := l.readAppendFlag(item)
	oa, or := l.overrides(item, map[string]bool{"items": true}, map[string]bool{"items": true})
	if app && (len(oa) > 0 || len(or) > 0) {
		l.fail(ErrYAMLValidate, msgOverrideAppend, keyNode(item, "append"))
	}
	app = app || oa["items"]
	if app {
		prev := l.rs.lists[name]
		if prev == nil {
			l.fail(ErrValidate, msgNoPreviousList, item)
		}
		prev.Items = append(prev.Items, items...)
		prev.visibility = l.next()
	} else {
		li := &List{Name: name, Items: items, At: l.at(item)}
		if prev := l.rs.lists[name]; prev != nil {
			li.index, li.visibility = prev.index, l.next()
			*prev = *li
		} else {
			li.index = l.next()
			li.visibility = li.index
			l.rs.lists[name] = li
			l.rs.Lists = append(l.rs.Lists, li)
		}
	}
	l.warnUnknownKeys(item, "list", "items", "append", "override")
}

func (l *loader) next() int {
	i := l.index
	l.index++
	return i
}

func (l *loader) readMacro(item *yaml.Node) {
	name, nn := l.str(item, "macro")
	l.item = "macro '" + name + "'"
	if !l.engine.Less(Engine038) && !rgxIdentifier.MatchString(name) {
		l.warn(WarnInvalidMacroName, "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)", nn)
	}
	_, cn := l.str(item, "condition")
	app := l.readAppendFlag(item)
	oa, or := l.overrides(item, map[string]bool{"condition": true}, map[string]bool{"condition": true})
	if app && (len(oa) > 0 || len(or) > 0) {
		l.fail(ErrYAMLValidate, msgOverrideAppend, keyNode(item, "append"))
	}
	app = app || oa["condition"]
	cond := scalarText(l.src, cn)
	if app {
		prev := l.rs.macros[name]
		if prev == nil {
			l.fail(ErrValidate, msgNoPreviousMacro, item)
		}
		prev.Condition.appendText(" ", cond)
		prev.visibility = l.next()
	} else {
		m := &Macro{Name: name, Condition: cond, At: l.at(item)}
		if prev := l.rs.macros[name]; prev != nil {
			m.index, m.visibility = prev.index, l.next()
			*prev = *m
		} else {
			m.index = l.next()
			m.visibility = m.index
			l.rs.macros[name] = m
			l.rs.Macros = append(l.rs.Macros, m)
		}
	}
	l.warnUnknownKeys(item, "macro", "condition", "append", "override")
}

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

func (l *loader) readRule(item *yaml.Node) {
	name, _ := l.str(item, "rule")
	l.item = "rule '" + name + "'"
	source, _ := l.scalar(item, "source", true, true)
	appendFlag := l.readAppendFlag(item)

	appendable := map[string]bool{"condition": true, "output": true, "desc": true, "tags": true, "exceptions": true}
	replaceable := map[string]bool{"condition": true, "output": true, "desc": true, "priority": true, "tags": true,
		"exceptions": true, "enabled": true, "warn_evttypes": true, "skip-if-unknown-filter": true}
	if !l.engine.Less(Engine042) {
		replaceable["capture"], replaceable["capture_duration"] = true, true
	}
	oa, or := l.overrides(item, appendable, replaceable)
	hasOverrides := len(oa) > 0 || len(or) > 0
	if appendFlag && hasOverrides {
		l.fail(ErrYAMLValidate, msgOverrideAppend, keyNode(item, "append"))
	}

	switch {
	case hasOverrides:
		expected := map[string]bool{}
		for k := range appendable {
			if has(item, k) {
				expected[k] = true
			}
		}
		for k := range replaceable {
			if has(item, k) {
				expected[k] = true
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
		if len(oa) > 0 {
			u := &ruleUpdate{}
			l.readUpdate(item, u, "append", source, func(k string) bool { return check(oa, "append", k) })
			appendU = u
		}
		if len(or) > 0 {
			u := &ruleUpdate{}
			l.readUpdate(item, u, "replace", source, func(k string) bool { return check(or, "replace", k) })
			replaceU = u
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
	case appendFlag:
		u := &ruleUpdate{source: source}
		if has(item, "condition") {
			_, cn := l.str(item, "condition")
			t := scalarText(l.src, cn)
			u.cond = &t
		}
		if has(item, "exceptions") {
			u.exceptions, u.hasExceptions = l.readExceptions(item, true), true
		}
		l.appendRule(name, item, u)
	default:
		r := &Rule{Name: name, Enabled: true, WarnEvttypes: true, At: l.at(item)}
		if !has(item, "condition") && !has(item, "output") && !has(item, "desc") && !has(item, "priority") {
			r.Enabled = l.reqBool(item, "enabled")
			l.warn(WarnDeprecatedItem, msgWarnEnabled, keyNode(item, "enabled"))
			prev := l.rs.rules[name]
			if prev == nil {
				l.fail(ErrValidate, "Rule has 'enabled' key but no rule by that name already exists", item)
			}
			prev.Enabled = r.Enabled
			break
		}
		_, cn := l.str(item, "condition")
		r.Condition = scalarText(l.src, cn)
		_, on := l.str(item, "output")
		r.Output = scalarText(l.src, on)
		r.Desc, _ = l.str(item, "desc")
		pri, pn := l.str(item, "priority")
		p, ok := ParsePriority(pri)
		if !ok {
			l.fail(ErrYAMLValidate, "Invalid priority", pn)
		}
		r.Priority = p
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
	l.warnUnknownKeys(item, ruleKeys...)
}

func (l *loader) readUpdate(item *yaml.Node, u *ruleUpdate, kind, source string, want func(string) bool) {
	if want("condition") {
		u.source = source
		_, cn := l.str(item, "condition")
		t := scalarText(l.src, cn)
		u.cond = &t
	}
	if want("exceptions") {
		u.exceptions, u.hasExceptions = l.readExceptions(item, kind == "append"), true
	}
	if want("output") {
		_, on := l.str(item, "output")
		t := scalarText(l.src, on)
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
		s, pn := l.str(item, "priority")
		p, ok := ParsePriority(s)
		if !ok {
			l.fail(ErrYAMLValidate, "Invalid priority", pn)
		}
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
