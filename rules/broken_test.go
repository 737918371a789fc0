package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/falcops/falcops/diag"
)

// brokenCase is one broken rules file and the error it must produce.
type brokenCase struct {
	name   string
	yaml   string
	engine string // engine version; "" means the zero Options
	code   string // expected finding code (severity error)
	pos    string // expected "line:col" of the finding
	msg    string // substring of the expected message
}

// deepCondition is a rule whose condition nests n parentheses.
func deepCondition(n int) string {
	return "- rule: r\n  desc: d\n  condition: " + strings.Repeat("(", n) + "evt.type = open" + strings.Repeat(")", n) +
		"\n  output: o\n  priority: WARNING\n"
}

// brokenCases holds one case per distinct error class: a different Falco
// error message or a different check. Positions were computed by hand: the
// value node for a bad value, the key node for a bad key, the item mapping for
// a missing key, the exact character for condition and output errors.
var brokenCases = []brokenCase{
	// --- file structure -------------------------------------------------
	{
		name: "yaml syntax error",
		yaml: `- rule: r
  desc: d
  condition: [evt.type = open
  output: o
`,
		// the flow sequence that is not closed starts on line 3
		code: ErrYAMLParse, pos: "3:3", msg: "did not find expected ',' or ']'",
	},
	{
		name: "scalar document",
		yaml: `just a string
`,
		code: ErrYAMLValidate, pos: "1:1", msg: "Rules content is not yaml",
	},
	{
		name: "mapping document",
		yaml: `# a comment
rule: r
desc: d
`,
		code: ErrYAMLValidate, pos: "2:1", msg: "Rules content is not yaml array of objects",
	},
	{
		name: "sequence item not a mapping",
		yaml: `- list: l
  items: []
- just a string
`,
		code: ErrYAMLValidate, pos: "3:3", msg: "Unexpected element type. Each element should be a yaml associative array.",
	},

	// --- required_engine_version ---------------------------------------
	{
		name: "engine version empty",
		yaml: `- required_engine_version:
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Mapping for key 'required_engine_version' is empty",
	},
	{
		name: "engine version unparseable",
		yaml: `- required_engine_version: 0.x.1
`,
		code: ErrYAMLValidate, pos: "1:28", msg: `Unable to parse engine version '0.x.1' as a semver string. Expected "x.y.z" semver format.`,
	},
	{
		name: "engine version higher than engine",
		yaml: `- required_engine_version: 0.99.0
`,
		engine: "0.62.0",
		code:   ErrValidate, pos: "1:28", msg: "Rules require engine version 0.99.0, but engine version is 0.62.0",
	},
	{
		name: "engine version semver form on old engine",
		yaml: `- required_engine_version: 0.26.0
`,
		engine: "0.26.0",
		code:   ErrYAMLValidate, pos: "1:28", msg: "engine version '0.26.0' in x.y.z form needs Falco 0.37",
	},

	// --- required_plugin_versions ---------------------------------------
	{
		name: "plugin versions not a sequence",
		yaml: `- required_plugin_versions: container
`,
		code: ErrYAMLValidate, pos: "1:29", msg: "Value of required_plugin_versions must be a sequence",
	},
	{
		name: "plugin version not a mapping",
		yaml: `- required_plugin_versions:
    - container
`,
		code: ErrYAMLValidate, pos: "2:7", msg: "Plugin version must be a mapping",
	},
	{
		name: "plugin version without name",
		yaml: `- required_plugin_versions:
    - version: 1.0.0
`,
		code: ErrYAMLValidate, pos: "2:7", msg: "Item has no mapping for key 'name'",
	},
	{
		name: "plugin version without version",
		yaml: `- required_plugin_versions:
    - name: container
`,
		code: ErrYAMLValidate, pos: "2:7", msg: "Item has no mapping for key 'version'",
	},
	{
		name: "plugin version invalid",
		yaml: `- required_plugin_versions:
    - name: container
      version: 1.0
`,
		code: ErrValidate, pos: "3:16", msg: "Invalid required version '1.0' for plugin 'container'",
	},
	{
		name: "plugin duplicate alternative",
		yaml: `- required_plugin_versions:
    - name: container
      version: 1.0.0
      alternatives:
        - name: container
          version: 2.0.0
`,
		code: ErrValidate, pos: "5:17", msg: "Defined multiple alternative version requirements for plugin 'container'",
	},
	{
		name: "plugin alternatives not a sequence",
		yaml: `- required_plugin_versions:
    - name: container
      version: 1.0.0
      alternatives: other
`,
		code: ErrYAMLValidate, pos: "4:21", msg: "Value of plugin version alternatives must be a sequence",
	},
	{
		name: "plugin alternative not a mapping",
		yaml: `- required_plugin_versions:
    - name: container
      version: 1.0.0
      alternatives:
        - other
`,
		code: ErrYAMLValidate, pos: "5:11", msg: "Plugin version alternative must be a mapping",
	},

	// --- lists ------------------------------------------------------------
	{
		name: "list empty name",
		yaml: `- list: ""
  items: [a]
`,
		code: ErrYAMLValidate, pos: "1:9", msg: "Value must be non-empty",
	},
	{
		name: "list name not a scalar",
		yaml: `- list: [a]
  items: [a]
`,
		code: ErrYAMLValidate, pos: "1:9", msg: "Value is not a scalar value",
	},
	{
		name: "list without items",
		yaml: `- list: l
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Item has no mapping for key 'items'",
	},
	{
		name: "list items not a sequence",
		yaml: `- list: l
  items: a
`,
		code: ErrYAMLValidate, pos: "2:10", msg: "Value is not a sequence",
	},
	{
		name: "list item not a scalar",
		yaml: `- list: l
  items: [a, [b]]
`,
		code: ErrYAMLValidate, pos: "2:14", msg: "sequence value is not scalar",
	},
	{
		name: "list append without previous list",
		yaml: `- list: l
  items: [a]
  append: true
`,
		code: ErrValidate, pos: "1:3", msg: "List uses 'append' or 'override.items: append' but no list by that name already exists",
	},
	{
		name: "list bad override operation",
		yaml: `- list: l
  items: [a]
  override:
    items: prepend
`,
		code: ErrYAMLValidate, pos: "4:12", msg: "Invalid override operation for key 'items': 'prepend'. Allowed values are: append replace ",
	},
	{
		name: "list override of a non-overridable key",
		yaml: `- list: l
  items: [a]
  override:
    list: replace
`,
		code: ErrYAMLValidate, pos: "4:5", msg: "Key 'list' cannot be replaced",
	},
	{
		name: "list append and override together",
		yaml: `- list: l
  items: [a]
  append: true
  override:
    items: append
`,
		code: ErrYAMLValidate, pos: "3:3", msg: "Keys 'override' and 'append: true' cannot be used together.",
	},
	{
		name: "list override on old engine",
		yaml: `- list: l
  items: [a]
  override:
    items: replace
`,
		engine: "0.26.0",
		code:   ErrYAMLValidate, pos: "3:3", msg: "'override' needs engine version 0.31.0 (Falco 0.37) or newer, but the engine version is 0.26.0",
	},
	{
		name: "override not a mapping",
		yaml: `- list: l
  items: [a]
  override: append
`,
		code: ErrYAMLValidate, pos: "3:13", msg: "Value of 'override' must be a mapping of key to append or replace",
	},

	// --- macros -----------------------------------------------------------
	{
		name: "macro without condition",
		yaml: `- macro: m
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Item has no mapping for key 'condition'",
	},
	{
		name: "macro condition empty",
		yaml: `- macro: m
  condition:
`,
		code: ErrYAMLValidate, pos: "2:3", msg: "Mapping for key 'condition' is empty",
	},
	{
		name: "macro append without previous macro",
		yaml: `- macro: m
  condition: and proc.name = a
  override:
    condition: append
`,
		code: ErrValidate, pos: "1:3", msg: "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
	},
	{
		name: "macro uses undefined macro",
		yaml: `- macro: m
  condition: other_macro
`,
		code: ErrValidate, pos: "2:14", msg: "Undefined macro 'other_macro' used in filter.",
	},
	{
		name: "macro condition syntax error",
		yaml: `- macro: m
  condition: proc.name ==
`,
		code: ErrCompileCondition, pos: "2:26", msg: "expected a string value or a field with a valid transformer",
	},
	{
		name: "macro reference loop",
		yaml: `- macro: a
  condition: proc.name = x
- macro: b
  condition: a
- macro: a
  condition: b
`,
		code: ErrValidate, pos: "4:14", msg: "reference loop in macro 'a'",
	},
	{
		name: "macro used before its definition",
		yaml: `- macro: b
  condition: a
- macro: a
  condition: proc.name = x
`,
		code: ErrValidate, pos: "2:14", msg: "Undefined macro 'a' used in filter.",
	},

	// --- rules: required keys and simple values ---------------------------
	{
		name: "rule without condition",
		yaml: `- rule: r
  desc: d
  output: o
  priority: WARNING
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Item has no mapping for key 'condition'",
	},
	{
		name: "rule without output",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  priority: WARNING
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Item has no mapping for key 'output'",
	},
	{
		name: "rule without desc",
		yaml: `- rule: r
  condition: evt.type = open
  output: o
  priority: WARNING
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Item has no mapping for key 'desc'",
	},
	{
		name: "rule without priority",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
`,
		code: ErrYAMLValidate, pos: "1:3", msg: "Item has no mapping for key 'priority'",
	},
	{
		name: "rule invalid priority",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: LOUD
`,
		code: ErrYAMLValidate, pos: "5:13", msg: "Invalid priority",
	},
	{
		name: "rule enabled only for unknown rule",
		yaml: `- rule: r
  enabled: false
`,
		code: ErrValidate, pos: "1:3", msg: "Rule has 'enabled' key but no rule by that name already exists",
	},
	{
		name: "rule append without previous rule",
		yaml: `- rule: r
  condition: and proc.name = x
  append: true
`,
		code: ErrValidate, pos: "1:3", msg: "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
	},
	{
		name: "rule replace without previous rule",
		yaml: `- rule: r
  priority: ERROR
  override:
    priority: replace
`,
		code: ErrValidate, pos: "1:3", msg: "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists",
	},
	{
		name: "rule append with nothing to append",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
- rule: r
  append: true
`,
		code: ErrValidate, pos: "6:3", msg: "Appended rule must have exceptions or condition property",
	},
	{
		name: "rule override key not present",
		yaml: `- rule: r
  override:
    condition: append
`,
		code: ErrYAMLValidate, pos: "3:5", msg: "An append override for 'condition' was specified but 'condition' is not defined",
	},
	{
		name: "rule key present but not under override",
		yaml: `- rule: r
  desc: more
  condition: and proc.name = x
  override:
    condition: append
`,
		code: ErrYAMLValidate, pos: "2:3", msg: "Unexpected key 'desc': no corresponding entry under 'override' is defined.",
	},
	{
		name: "rule append on priority",
		yaml: `- rule: r
  priority: ERROR
  override:
    priority: append
`,
		code: ErrYAMLValidate, pos: "4:5", msg: "Key 'priority' cannot be appended to, use 'replace' instead",
	},
	{
		name: "rule replace on source",
		yaml: `- rule: r
  source: k8s_audit
  override:
    source: replace
`,
		code: ErrYAMLValidate, pos: "4:5", msg: "Key 'source' cannot be replaced",
	},
	{
		name: "rule replace of capture before Falco 0.42",
		yaml: `- rule: r
  capture: true
  override:
    capture: replace
`,
		engine: "0.50.0",
		code:   ErrYAMLValidate, pos: "4:5", msg: "Key 'capture' cannot be replaced",
	},
	{
		name: "rule redefined with a different source",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
- rule: r
  desc: d
  condition: ka.verb = get
  output: o
  priority: WARNING
  source: k8s_audit
`,
		code: ErrValidate, pos: "11:11", msg: "Rule has been re-defined with a different source",
	},
	{
		name: "rule tags not a sequence",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  tags: mytag
`,
		code: ErrYAMLValidate, pos: "6:9", msg: "Value is not a sequence",
	},
	{
		name: "rule enabled not a bool",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  enabled: maybe
`,
		code: ErrYAMLValidate, pos: "6:12", msg: "Can't decode YAML scalar value",
	},
	{
		name: "rule capture_duration not an integer",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  capture_duration: 1.5
`,
		code: ErrYAMLValidate, pos: "6:21", msg: "Can't decode YAML scalar value",
	},

	// --- exceptions -------------------------------------------------------
	{
		name: "exceptions not a sequence",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions: none
`,
		code: ErrYAMLValidate, pos: "6:15", msg: "Rule exceptions must be a sequence",
	},
	{
		name: "exception not a mapping",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - proc.name
`,
		code: ErrYAMLValidate, pos: "7:7", msg: "Rule exception must be a mapping",
	},
	{
		name: "exception without name",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - fields: [proc.name]
`,
		code: ErrYAMLValidate, pos: "7:7", msg: "Item has no mapping for key 'name'",
	},
	{
		name: "exception without fields",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
`,
		code: ErrYAMLValidate, pos: "7:7", msg: "Item has no mapping for key 'fields'",
	},
	{
		name: "exception with empty fields",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: []
`,
		code: ErrValidate, pos: "8:15", msg: "Rule exception item must have fields property with a list of fields",
	},
	{
		name: "exception fields and comps of different lengths",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name, proc.pname]
      comps: [=]
`,
		code: ErrValidate, pos: "9:14", msg: "Fields and comps lists must have equal length",
	},
	{
		name: "exception unsupported comparison operator",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name]
      comps: [like]
`,
		code: ErrValidate, pos: "9:15", msg: "'like' is not a supported comparison operator",
	},
	{
		name: "exception unsupported field",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.nosuch]
`,
		code: ErrValidate, pos: "8:16", msg: "'proc.nosuch' is not a supported filter field",
	},
	{
		name: "exception scalar fields with a non-list comp",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: proc.name
      comps: startswith
`,
		code: ErrValidate, pos: "9:14", msg: "When fields is a single value, comps must be one of (in, pmatch, intersects)",
	},
	{
		name: "exception scalar fields with list comps",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: proc.name
      comps: [in]
`,
		code: ErrValidate, pos: "9:14", msg: "Fields and comps must both be strings",
	},
	{
		name: "exception values of different length than fields",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name, proc.pname]
      values:
        - [a]
`,
		code: ErrValidate, pos: "10:11", msg: "Fields and values lists must have equal length",
	},
	{
		name: "exception scalar form value that is a list",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: proc.name
      values:
        - [a, b]
`,
		code: ErrValidate, pos: "10:11", msg: "Expected values array to contain a list of strings",
	},
	{
		name: "exception values not a sequence",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: proc.name
      values: a
`,
		code: ErrYAMLValidate, pos: "9:15", msg: "Rule exception values must be a sequence",
	},
	{
		name: "exception value empty string",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name, proc.pname]
      values: [[a, ""]]
`,
		code: ErrYAMLValidate, pos: "9:20", msg: "Value must be non-empty",
	},
	{
		name: "exception value recursive alias",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name]
      values: &a [*a]
`,
		code: ErrYAMLValidate, pos: "9:15", msg: "Exception value nested more than 64 levels deep",
	},
	{
		name: "appended new exception without values",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
- rule: r
  exceptions:
    - name: new
      fields: [proc.name]
  override:
    exceptions: append
`,
		code: ErrValidate, pos: "8:7", msg: "Rule exception must have values property with a list of values",
	},
	{
		name: "appended new exception without fields",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
- rule: r
  exceptions:
    - name: new
      values: [[a]]
  override:
    exceptions: append
`,
		code: ErrValidate, pos: "8:7", msg: "Rule exception must have fields property with a list of fields",
	},
	{
		name: "appending fields to an existing exception",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name]
- rule: r
  exceptions:
    - name: e
      fields: [proc.pname]
      values: [[a]]
  override:
    exceptions: append
`,
		code: ErrValidate, pos: "12:7", msg: "Can not append exception fields to existing exception, only values",
	},
	{
		name: "appending comps to an existing exception",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name]
- rule: r
  exceptions:
    - name: e
      comps: [=]
      values: [[a]]
  override:
    exceptions: append
`,
		code: ErrValidate, pos: "12:7", msg: "Can not append exception comps to existing exception, only values",
	},

	// --- conditions: references and parser errors --------------------------
	{
		name: "unknown field in condition",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.nosuch = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:34", msg: "unknown field 'proc.nosuch' for source 'syscall'",
	},
	{
		name: "undefined macro in rule",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and nosuch_macro
  output: o
  priority: WARNING
`,
		code: ErrValidate, pos: "3:34", msg: "Undefined macro 'nosuch_macro' used in filter.",
	},
	{
		name: "unbalanced parenthesis",
		yaml: `- rule: r
  desc: d
  condition: (evt.type = open
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:30", msg: "expected a ')' token",
	},
	{
		name: "unexpected token after expression",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open)
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:29", msg: "unexpected token after 'open', expecting 'or', 'and'",
	},
	{
		name: "missing check operator",
		yaml: `- rule: r
  desc: d
  condition: evt.type open
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:23", msg: "expected a valid check operator: one of 'exists', '<='",
	},
	{
		name: "no blank after and",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and-proc.name = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:33", msg: "expected blank or '(' after 'and'",
	},
	{
		name: "no blank after or",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open or-proc.name = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:32", msg: "expected blank or '(' after 'or'",
	},
	{
		name: "no check after and",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and 123
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:34", msg: "expected a '(' token, a field check, or an identifier",
	},
	{
		name: "invalid escape in quoted string",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name = "a\qb"
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:48", msg: `unsupported string escape sequence: \q`,
	},
	{
		name: "invalid hex escape in quoted string",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name = "\xZZ"
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:47", msg: "invalid hex char escape sequence: ZZ",
	},
	{
		name: "max depth exceeded",
		yaml: deepCondition(1100),
		// the 200th '(' enters the 1000th nested parser function
		code: ErrCompileCondition, pos: "3:214", msg: "exceeded max depth limit of 1000",
	},
	{
		name: "empty field argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.env[] = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:43", msg: "expected a valid field argument: a quoted string or a bare string",
	},
	{
		name: "unclosed field argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.env[a b] = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:44", msg: "expected a ']' token",
	},
	{
		name: "unclosed transformer",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and tolower(proc.name = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:52", msg: "expected a ')' token closing the transformer",
	},
	{
		name: "bad transformer argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and tolower(=) = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:42", msg: "expected field transformer argument: field, transformer, quoted string, number, or transformer list",
	},
	{
		name: "val without field",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name = val(x)
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:50", msg: "expected a field within 'val' transformer",
	},
	{
		name: "numeric operator without number",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.pid > abc
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:45", msg: "expected a number value or a field with a valid transformer",
	},
	{
		name: "list operator without list",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name in 1
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:47", msg: "expected a list, an identifier, or a field with a valid transformer",
	},
	{
		name: "missing list item after comma",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name in (a, )
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:51", msg: "expected a string value",
	},
	{
		name: "unclosed transformer list",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and join(',', (proc.name proc.pname)) = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:55", msg: "expected ')'",
	},
	{
		name: "bad transformer list argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and join(',', (=)) = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:45", msg: "expected transformer list argument: field, transformer, quoted string, or number",
	},

	// --- conditions: semantic checks ---------------------------------------
	{
		name: "unknown event type",
		yaml: `- rule: r
  desc: d
  condition: evt.type = nosuchevent
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:25", msg: "unknown event type nosuchevent",
	},
	{
		name: "regex before Falco 0.39",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name regex x
  output: o
  priority: WARNING
`,
		engine: "0.40.0",
		code:   ErrCompileCondition, pos: "3:34", msg: "operator 'regex' needs engine version 0.43.0 (Falco 0.39) or newer, but the engine version is 0.40.0",
	},
	{
		name: "iglob before Falco 0.38",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name iglob x
  output: o
  priority: WARNING
`,
		engine: "0.31.0",
		code:   ErrCompileCondition, pos: "3:34", msg: "operator 'iglob' needs engine version 0.40.0 (Falco 0.38)",
	},
	{
		name: "operator modifier before Falco 0.44",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name startswith oneof (a, b)
  output: o
  priority: WARNING
`,
		engine: "0.57.0",
		code:   ErrCompileCondition, pos: "3:34", msg: "operator 'startswith oneof' needs engine version 0.62.0 (Falco 0.44)",
	},
	{
		name: "transformer len before Falco 0.40",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and len(proc.args) > 3
  output: o
  priority: WARNING
`,
		engine: "0.43.0",
		code:   ErrCompileCondition, pos: "3:34", msg: "transformer 'len' needs engine version 0.46.0 (Falco 0.40)",
	},
	{
		name: "field newer than engine",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and container.host_pid = true
  output: o
  priority: WARNING
`,
		engine: "0.43.0",
		code:   ErrCompileCondition, pos: "3:34", msg: "field 'container.host_pid' needs engine version 0.46.0 (Falco 0.40)",
	},
	{
		name: "field removed before engine",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and evtin.span.id = 1
  output: o
  priority: WARNING
`,
		engine: "0.57.0",
		code:   ErrCompileCondition, pos: "3:34", msg: "unknown field 'evtin.span.id' for source 'syscall'",
	},
	{
		name: "field takes no argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.name[1] = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:34", msg: "field 'proc.name' does not take an argument",
	},
	{
		name: "field requires an argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and evt.arg = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:34", msg: "field 'evt.arg' requires an argument",
	},
	{
		name: "field numeric argument given a word",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and proc.aname[abc] = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:34", msg: "field 'proc.aname' takes a numeric argument, not 'abc'",
	},
	{
		name: "field with dotted and bracket argument",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open and evt.arg.fd[1] = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:34", msg: "field 'evt.arg.fd' already has the argument 'fd' and cannot take another",
	},
	{
		name: "evt.type compared with a field",
		yaml: `- rule: r
  desc: d
  condition: evt.type = val(proc.name)
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:14", msg: "right-hand field comparisons on `evt.type`/`syscall.type` checks are not supported",
	},
	{
		name: "list used as a single value",
		yaml: `- list: my_list
  items: [a, b]
- rule: r
  desc: d
  condition: evt.type = open and proc.name = my_list
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "5:46", msg: "list 'my_list' (2 items) is used as a single value",
	},
	{
		name: "list used as a condition",
		yaml: `- list: my_list
  items: [a, b]
- rule: r
  desc: d
  condition: evt.type = open and my_list
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "5:34", msg: "list 'my_list' is used where a condition is expected",
	},

	// --- outputs ----------------------------------------------------------
	{
		name: "output unknown field",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: user=%user.nosuch
  priority: WARNING
`,
		code: ErrCompileOutput, pos: "4:16", msg: "invalid output format: unknown field 'user.nosuch' for source 'syscall'",
	},
	{
		name: "output ending with percent",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o %
  priority: WARNING
`,
		code: ErrCompileOutput, pos: "4:13", msg: "invalid formatting syntax: formatting cannot end with a %",
	},
	{
		name: "output ending with a number",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o %12
  priority: WARNING
`,
		code: ErrCompileOutput, pos: "4:13", msg: "invalid formatting syntax: formatting cannot end with a number",
	},

	// --- positions inside multi-line, quoted and appended conditions ---------
	{
		name: "position in folded condition",
		yaml: `- rule: r
  desc: d
  condition: >
    evt.type = open and
    proc.nosuch = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "5:5", msg: "unknown field 'proc.nosuch'",
	},
	{
		name: "position in plain multi-line condition",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
    and proc.nosuch = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "4:9", msg: "unknown field 'proc.nosuch'",
	},
	{
		name: "position at end of literal condition",
		yaml: `- rule: r
  desc: d
  condition: |
    (evt.type = open
      and proc.name = x
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "5:24", msg: "expected a ')' token",
	},
	{
		name: "position in single-quoted condition",
		yaml: `- rule: r
  desc: d
  condition: 'proc.name = ''x'' and evt.type = nosuchevent'
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:48", msg: "unknown event type nosuchevent",
	},
	{
		name: "position in double-quoted condition with escapes",
		yaml: `- rule: r
  desc: d
  condition: "evt.type = open and proc.name = \"\u00e9\" and proc.nosuch = 1"
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:62", msg: "unknown field 'proc.nosuch'",
	},
	{
		name: "position in condition with anchor",
		yaml: `- rule: r
  desc: d
  condition: &c evt.type = open and proc.nosuch = 1
  output: o
  priority: WARNING
`,
		code: ErrCompileCondition, pos: "3:37", msg: "unknown field 'proc.nosuch'",
	},
	{
		name: "position in appended condition",
		yaml: `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
- rule: r
  condition: and proc.nosuch = x
  override:
    condition: append
`,
		code: ErrCompileCondition, pos: "7:18", msg: "unknown field 'proc.nosuch'",
	},
}

func findingsString(fs diag.Findings) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n\t%s", f)
	}
	return b.String()
}

func TestBrokenInputs(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range brokenCases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			var opts Options
			if tc.engine != "" {
				opts.Engine = MustVersion(tc.engine)
			}
			rs := LoadBytes("broken.yaml", []byte(tc.yaml), opts)
			var line, col int
			if _, err := fmt.Sscanf(tc.pos, "%d:%d", &line, &col); err != nil {
				t.Fatalf("bad pos %q: %v", tc.pos, err)
			}
			for _, f := range rs.Findings {
				if f.Code != tc.code || f.Line != line || f.Column != col {
					continue
				}
				if f.Severity != diag.Error {
					t.Errorf("finding %s has severity %s, want error", f, f.Severity)
				}
				if !strings.Contains(f.Message, tc.msg) {
					t.Errorf("finding %s: message does not contain %q", f, tc.msg)
				}
				if f.File != "broken.yaml" {
					t.Errorf("finding %s: file %q, want broken.yaml", f, f.File)
				}
				return
			}
			t.Errorf("no %s finding at %s (want message containing %q); got:%s", tc.code, tc.pos, tc.msg, findingsString(rs.Findings))
		})
	}
	if len(brokenCases) < 60 {
		t.Errorf("only %d broken cases, want at least 60", len(brokenCases))
	}
}

// checkFindings reports findings without a position, code or known severity.
func checkFindings(t testing.TB, name string, rs *Ruleset) {
	t.Helper()
	for _, f := range rs.Findings {
		if f.Line < 1 || f.Column < 1 {
			t.Errorf("%s: finding with invalid position: %s", name, f)
		}
		if f.Code == "" {
			t.Errorf("%s: finding without code: %s", name, f)
		}
		if f.Severity != diag.Error && f.Severity != diag.Warning {
			t.Errorf("%s: finding with unknown severity %q: %s", name, f.Severity, f)
		}
	}
}

// Unlike Falco, which stops at the first error of a file, the loader reports
// every item's error and keeps reading.
func TestSeveralIndependentErrors(t *testing.T) {
	const src = `- list: l1
- macro: m
  condition: proc.name =
- rule: r1
  desc: d
  output: o
  priority: WARNING
- rule: r2
  desc: d
  condition: evt.type = open and proc.nosuch = x
  output: o
  priority: WARNING
- rule: r3
  desc: d
  condition: evt.type = open
  output: o
  priority: LOUD
- required_plugin_versions: x
---
- rule: r4
  desc: d
  condition: evt.type = open
  output: "%proc.nosuch"
  priority: WARNING
`
	want := []string{
		"1:3 LOAD_ERR_YAML_VALIDATE Item has no mapping for key 'items'",
		"3:25 LOAD_ERR_COMPILE_CONDITION expected a string value or a field with a valid transformer: 'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'",
		"4:3 LOAD_ERR_YAML_VALIDATE Item has no mapping for key 'condition'",
		"10:34 LOAD_ERR_COMPILE_CONDITION unknown field 'proc.nosuch' for source 'syscall'",
		"17:13 LOAD_ERR_YAML_VALIDATE Invalid priority",
		"18:29 LOAD_ERR_YAML_VALIDATE Value of required_plugin_versions must be a sequence",
		"23:12 LOAD_ERR_COMPILE_OUTPUT invalid output format: unknown field 'proc.nosuch' for source 'syscall'",
	}
	rs := LoadBytes("multi.yaml", []byte(src), Options{})
	checkFindings(t, "multi", rs)
	var got []string
	for _, f := range rs.Findings {
		if f.Severity == diag.Error {
			got = append(got, fmt.Sprintf("%d:%d %s %s", f.Line, f.Column, f.Code, f.Message))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s\nall findings:%s", strings.Join(got, "\n"), strings.Join(want, "\n"), findingsString(rs.Findings))
	}
	if rs.Rule("r2") == nil || rs.Rule("r4") == nil {
		t.Errorf("rules after an error were not collected")
	}
}

// nastyInputs are inputs that must not crash the loader.
func nastyInputs() map[string]string {
	garbage := make([]byte, 4096)
	x := uint32(2463534242)
	for i := range garbage {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		garbage[i] = byte(x)
	}
	deepList := "- list: l\n  items: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n"
	deepNot := "- macro: m\n  condition: " + strings.Repeat("not ", 10000) + "proc.name = x\n"
	return map[string]string{
		"empty":                ``,
		"only separator":       "---\n",
		"separators":           "---\n---\n...\n---\n",
		"null item":            "- ~\n",
		"null document":        "~\n",
		"empty sequence item":  "- []\n",
		"empty mapping item":   "- {}\n",
		"nested empty":         "- [[[]]]\n- {a: {b: {}}}\n",
		"bom":                  "\ufeff- list: l\n  items: []\n",
		"binary garbage":       string(garbage),
		"nul and high bytes":   "\x00\xff\xfe- rule: \x00\n",
		"invalid utf8 in rule": "- rule: \"\\xff\"\n  desc: \xff\xfe\n  condition: proc.name = \xc3\x28\n  output: \xff%\n  priority: INFO\n",
		"anchors and aliases": `- &r {rule: r, desc: d, condition: evt.type = open, output: o, priority: WARNING}
- *r
- rule: *r
- macro: &m m
  condition: *m
- list: *m
  items: *m
- {<<: *r, rule: r2}
- &s [a, b]
- list: l2
  items: *s
- rule: r3
  desc: *s
  condition: *s
  output: *s
  priority: *s
`,
		"exception alias bomb": `- &a0 [x, x, x, x, x, x, x, x, x, x]
- &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
- &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
- &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
- &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
- &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
- &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
- &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name]
      values: *a7
`,
		"self-referencing anchors": "- &x {rule: r, exceptions: [{name: e, fields: *x, values: [*x]}]}\n- &y [*y]\n",
		"alias as key":             "- &k rule\n- {*k : r, desc: d, condition: evt.type = open, output: o, priority: WARNING}\n",
		"unknown alias":            "- rule: *nosuch\n",
		"alias bomb": `- &a [x, x, x, x, x, x, x, x, x]
- &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
- &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
- &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
- list: l
  items: *d
`,
		"tags":           "- !!map {list: !!str l, items: !!seq [!!int 1, !!binary aGk=]}\n- !custom {macro: m, condition: !!null }\n",
		"deep condition": deepCondition(10000),
		"deep not":       deepNot,
		"deep yaml":      deepList,
		"deep exception values": `- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e
      fields: [proc.name]
      values: [[[[[[[a]]]]]]]
    - name: e2
      fields: proc.name
      values: [[[[a]]]]
`,
		"weird values": `- required_engine_version: 99999999999999999999999
- required_engine_version: -1
- required_engine_version: 0.1.2.3
- required_plugin_versions: [{name: [a], version: {}}, {name: a, version: 1.0.0, alternatives: [[]]}]
- rule: r
  desc: d
  condition: "   "
  output: "*%"
  priority: ""
  capture_duration: 99999999999999999999999
- rule: r
  desc: d
  condition: "\t"
  output: "%"
  priority: info
- rule: r
  override: {}
- rule: r
  override: [condition]
- rule: r
  append: false
- rule: r
  enabled: true
  override: {enabled: replace}
- macro: ""
  condition: x
- list: "a b"
  items: ["", "c d", [e]]
`,
		"exceptions edge cases": `- list: l
  items: []
- rule: r
  desc: d
  condition: evt.type = open
  output: o
  priority: WARNING
  exceptions:
    - name: e1
      fields: [proc.name, fd.name]
      comps: [in, startswith oneof]
      values:
        - [l, [a, b]]
        - ["a b", 'c']
        - [[], []]
    - name: e2
      fields: proc.name
      values: [l, "x y", ~]
    - name: e3
      fields: [proc.name]
      comps: [" in "]
      values: [[~]]
    - name: e1
      fields: [proc.name]
      values: [["(unbalanced"]]
- rule: r
  exceptions:
    - name: e1
      values: [["a", "b"]]
    - name: e2
    - name: e9
      fields: ~
      values: ~
  override:
    exceptions: append
`,
		"appends and overrides": `- list: l
  items: [a]
- list: l
  items: [l]
  override: {items: append}
- macro: m
  condition: proc.name in (l)
- macro: m
  condition: or m
  override: {condition: append}
- rule: r
  desc: d
  condition: evt.type = open and m
  output: o
  priority: WARNING
- rule: r
  condition: and (
  desc: more
  output: "%proc.name %"
  tags: [a]
  override: {condition: append, desc: append, output: append, tags: replace}
- rule: r
  enabled: false
- rule: r
  source: k8s_audit
  condition: ka.verb = get
  override: {condition: replace}
`,
		"unicode positions": "- rule: \"r\u00e9\"\n  desc: \u65e5\u672c\n  condition: proc.name = \u00e9\u00e9 and \u65e5 = x\n  output: \u00e9 %proc.\u00e9\n  priority: WARNING\n",
	}
}

func TestNastyInputsDoNotPanic(t *testing.T) {
	engines := []string{"", "0.26.0", "0.31.0", "0.40.0", "0.57.0", "0.62.0", "0.63.0", "1.0.0"}
	for name, src := range nastyInputs() {
		t.Run(name, func(t *testing.T) {
			for _, eng := range engines {
				var opts Options
				if eng != "" {
					opts.Engine = MustVersion(eng)
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("engine %q: panic: %v", eng, r)
						}
					}()
					rs := LoadBytes("nasty.yaml", []byte(src), opts)
					checkFindings(t, name+" engine "+eng, rs)
					for _, r := range rs.Rules {
						rs.Expand(r)
					}
				}()
			}
		})
	}
}
