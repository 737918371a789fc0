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
		pv, nn, vn := l.pluginVersion(p, "Plugin version must be a mapping")
		req := PluginRequirement{At: l.at(p), Alternatives: []PluginVersion{pv}}
		nodes, nameNodes := []*yaml.Node{vn}, []*yaml.Node{nn}
		if has(p, "alternatives") {
			alts := get(p, "alternatives")
			if alts == nil || alts.Kind != yaml.SequenceNode {
				l.fail(ErrYAMLValidate, "Value of plugin version alternatives must be a sequence", valueOr(alts, p))
			}
			for _, a := range alts.Content {
				av, ann, avn := l.pluginVersion(deref(a), "Plugin version alternative must be a mapping")
				req.Alternatives = append(req.Alternatives, av)
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

// pluginVersion decodes a name and version mapping of required_plugin_versions
// (a requirement or one of its alternatives), with the nodes of both values.
func (l *loader) pluginVersion(m *yaml.Node, notMapping string) (pv PluginVersion, nameNode, versionNode *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		l.fail(ErrYAMLValidate, notMapping, m)
	}
	pv.Name, nameNode = l.str(m, "name")
	pv.Version, versionNode = l.str(m, "version")
	return pv, nameNode, versionNode
}

// readAppendFlag decodes the deprecated append key and warns about it.
func (l *loader) readAppendFlag(item *yaml.Node) bool {
	app, _ := l.optBool(item, "append")
	if app {
		l.warn(WarnDeprecatedItem, msgWarnAppend, keyNode(item, "append"))
	}
	return app
}

// namedItem is what the list and macro readers differ in.
type namedItem struct {
	kind     string // the key naming the item: "list" or "macro"
	body     string // the one key an append or override changes
	nameRgx  *regexp.Regexp
	nameCode string // the warning for a name that does not match nameRgx
	nameMsg  string
}

var (
	listItem = namedItem{kind: "list", body: "items", nameRgx: rgxBareStr, nameCode: WarnInvalidListName,
		nameMsg: `List has an invalid name. List names should match a regular expression: ([^()"'[:space:]=,]+)`}
	macroItem = namedItem{kind: "macro", body: "condition", nameRgx: rgxIdentifier, nameCode: WarnInvalidMacroName,
		nameMsg: "Macro has an invalid name. Macro names should match a regular expression: ([a-zA-Z]+[a-zA-Z0-9_]*)"}
)

// keys are the keys a list or macro item may have.
func (k namedItem) keys() []string { return []string{k.kind, k.body, "append", "override"} }

// readNamed reads what a list and a macro item share, in Falco's order: the
// name, the body (with readBody), and whether the item appends to an earlier
// one, by append: true or by an override of its body.
func (l *loader) readNamed(item *yaml.Node, kind namedItem, readBody func()) (name string, appends bool) {
	name, nn := l.str(item, kind.kind)
	l.item = kind.kind + " '" + name + "'"
	if !l.engine.Less(Engine038) && !kind.nameRgx.MatchString(name) {
		l.warn(kind.nameCode, kind.nameMsg, nn)
	}
	readBody()
	app := l.readAppendFlag(item)
	body := map[string]bool{kind.body: true}
	oa, or := l.overrides(item, body, body)
	if app && (len(oa) > 0 || len(or) > 0) {
		l.fail(ErrYAMLValidate, msgOverrideAppend, keyNode(item, "append"))
	}
	return name, app || oa[kind.body]
}

func (l *loader) readList(item *yaml.Node) {
	var items []string
	name, app := l.readNamed(item, listItem, func() { items, _ = l.seq(item, "items", false) })
	if app {
		prev := l.rs.lists[name]
		if prev == nil {
			l.fail(ErrValidate, msgNoPreviousList, item)
		}
		prev.Items = append(prev.Items, items...)
		prev.visibility = l.next()
	} else {
		define(l, l.rs.lists, &l.rs.Lists, &List{Name: name, Items: items, At: l.at(item)})
	}
	l.warnUnknownKeys(item, listItem.keys()...)
}

func (l *loader) readMacro(item *yaml.Node) {
	var cond Text
	name, app := l.readNamed(item, macroItem, func() { cond = l.text(item, "condition") })
	if app {
		prev := l.rs.macros[name]
		if prev == nil {
			l.fail(ErrValidate, msgNoPreviousMacro, item)
		}
		prev.Condition.appendText(" ", cond)
		prev.visibility = l.next()
	} else {
		define(l, l.rs.macros, &l.rs.Macros, &Macro{Name: name, Condition: cond, At: l.at(item)})
	}
	l.warnUnknownKeys(item, macroItem.keys()...)
}

func (l *loader) next() int {
	i := l.index
	l.index++
	return i
}

// define adds a list, macro or rule. A redefinition replaces the earlier one
// in place: it keeps the earlier one's place in the load order and becomes
// visible from here on.
func define[T any, P interface {
	*T
	named
}](l *loader, byName map[string]P, all *[]P, v P) {
	o := v.order()
	if prev := byName[v.name()]; prev != nil {
		o.index, o.visibility = prev.order().index, l.next()
		*prev = *v
		return
	}
	o.index = l.next()
	o.visibility = o.index
	byName[v.name()] = v
	*all = append(*all, v)
}
