package rules

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
)

// compileErrors loads one rule with condition cond at engine and returns
// its LOAD_ERR_COMPILE_CONDITION findings.
func compileErrors(t *testing.T, cond string, engine Version) []diag.Finding {
	t.Helper()
	rs := LoadBytes("t.yaml", []byte("- rule: r\n  desc: d\n  condition: "+quote(cond)+"\n  output: o\n  priority: INFO\n"), Options{Engine: engine})
	var out []diag.Finding
	for _, f := range rs.Findings {
		if f.Severity == diag.Error {
			require.Equal(t, ErrCompileCondition, f.Code, "%s: %s", cond, f)
			out = append(out, f)
		}
	}
	return out
}

// quote writes s as a YAML double-quoted scalar.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestUpstreamOperatorTypeCompatibility runs the cases of libsinsp's own
// compiler, operator and transformer tests
// (rules/testdata/upstream/filter_types.tsv, extracted from libs' unit
// tests, each naming its test) at Falco master's engine, whose libs the
// cases come from: falcops refuses
// exactly the filters libsinsp refuses. Each refusal's code, text and
// line:col are kept in filter_types.golden (go test -update rewrites it),
// so a change of any of them shows.
func TestUpstreamOperatorTypeCompatibility(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "upstream", "filter_types.tsv"))
	require.NoError(t, err)
	defer f.Close() //nolint:errcheck // read-only
	n := 0
	var golden strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 3, line)
		source, expr, fails := cols[0], cols[1], cols[2]
		errs := compileErrors(t, expr, EngineNext) // the cases are libs master's
		if fails == "1" {
			assert.NotEmpty(t, errs, "libsinsp refuses %q (%s)", expr, source)
		} else {
			assert.Empty(t, errs, "libsinsp compiles %q (%s)", expr, source)
		}
		for _, e := range errs {
			fmt.Fprintf(&golden, "%s\t%s\n", expr, e)
		}
		n++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 543, n)
	path := filepath.Join("testdata", "upstream", "filter_types.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(golden.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./rules/ -run TestUpstreamOperatorTypeCompatibility -update")
	assert.Equal(t, string(want), golden.String(), "the refusals' codes, texts or positions changed (go test -update after checking them)")
}

// TestTypeCheckTexts: libsinsp's texts, at the check (libsinsp's position
// of a binary check: where its field starts), and the engine gate: Falco
// 0.37's libs did not check operator and type.
func TestTypeCheckTexts(t *testing.T) {
	for cond, want := range map[string]string{
		"proc.pid contains 1":                                  "filter error: 'contains' operator not supported for numeric filters",
		"fd.ip startswith 10.":                                 "filter error: 'startswith' operator not supported for ip address and network filters",
		"evt.buffer < 1":                                       "filter error: '<' operator not supported for buffer filters",
		"evt.is_io contains true":                              "filter error: 'contains' operator not supported for numeric filters",
		"evt.buffer bcontains 3030a":                           "filter error: bcontains and bstartswith operator support hex strings only",
		"evt.buffer bstartswith 30zz":                          "filter error: bcontains and bstartswith operator support hex strings only",
		"evt.is_io = yes":                                      "filter error: unrecognized boolean value yes",
		"fd.ip = 10.0.0":                                       "unrecognized IPv4 address 10.0.0",
		"fd.ip = fe80::zz":                                     "unrecognized IPv6 address fe80::zz",
		"fd.net = 10.0.0.0":                                    "unrecognized IP network 10.0.0.0",
		"fd.net = 10.0.0.0/33":                                 "invalid netmask 33",
		"fd.net = fe80::/0":                                    "invalid v6 netmask 0",
		"fd.net = fe80::":                                      "invalid v6 netmask: fe80::",
		"thread.cpu = 1.0":                                     "1.0 is not a valid number",
		"fd.ip in (10.0.0.1, 300.0.0.1)":                       "unrecognized IPv4 address 300.0.0.1",
		`proc.name regex "[a-z"`:                               "invalid regex pattern: missing ]: [a-z",
		`proc.name regex "\\d+"`:                               `invalid regex pattern: invalid escape sequence: \d`,
		`proc.name regex "a{2,1}"`:                             "invalid regex pattern: bad repetition operator: {2,1}",
		"b64(evt.num) = x":                                     "can't add field transformer: type 'UINT64' is not supported by 'b64' transformer applied on field 'evt.num'",
		"toupper(len(proc.name)) = x":                          "can't add field transformer: type 'UINT64' is not supported by 'toupper' transformer applied on field 'proc.name'",
		"len(proc.name) contains 1":                            "filter error: 'contains' operator not supported for numeric filters",
		"toupper(fd.name)[x] = foo":                            "filter error: transformer 'toupper' does not support field arguments",
		"toupper(evt.rawarg.res) = -1":                         "field 'evt.rawarg' does not support transformers",
		"proc.name = val(proc.pid)":                            "field 'proc.name' has type 'CHARBUF' while the right-hand side field 'proc.pid' has incompatible type 'INT64'",
		"evt.buflen.in = val(evt.around[1404996934793590564])": "field 'evt.around' can't be used as a right-hand side field",
		"evt.around[1404996934793590564] = val(evt.buflen.in)": "field 'evt.around' doesn't support right-hand side fields",
		`join("-") = foo`:                                      "join() requires exactly 2 arguments: separator and list",
		`concat(fd.name) = foo`:                                "concat() requires at least 2 arguments",
	} {
		errs := compileErrors(t, cond, Engine044)
		if assert.Len(t, errs, 1, cond) {
			assert.Equal(t, "t.yaml:3:15: error: "+want+" (rule 'r') [LOAD_ERR_COMPILE_CONDITION]", errs[0].String(), cond)
		}
	}
	for _, ok := range []string{"fd.ip = 10.0.0.1", "fd.ip = ::1", "fd.net = 10.0.0.0/8", "fd.net = fe80::/10", "evt.buffer bcontains 3030", "thread.cpu = 1", "evt.is_io = false"} {
		assert.Empty(t, compileErrors(t, ok, Engine044), ok)
	}
	// A right-hand side transformer is refused where it is written.
	errs := compileErrors(t, "fd.name = val(proc.name)[x]", Engine044)
	if assert.Len(t, errs, 1) {
		assert.Equal(t, "t.yaml:3:25: error: filter error: transformer 'val' does not support field arguments (rule 'r') [LOAD_ERR_COMPILE_CONDITION]", errs[0].String())
	}
	assert.Empty(t, compileErrors(t, `proc.name regex "a**"`, Engine044), "RE2 reads a** as a*")
	// \xHH escapes are libs master's: Falco 0.44 refuses them.
	errs = compileErrors(t, `proc.name = "a\x41"`, Engine044)
	if assert.Len(t, errs, 1) {
		assert.Equal(t, `t.yaml:3:27: error: unsupported string escape sequence: \x (rule 'r') [LOAD_ERR_COMPILE_CONDITION]`, errs[0].String())
	}
	errs = compileErrors(t, `proc.name = "\x00"`, EngineNext)
	if assert.Len(t, errs, 1) {
		assert.Equal(t, `t.yaml:3:15: error: filter error: filter value cannot contain a NUL byte (\x00) (rule 'r') [LOAD_ERR_COMPILE_CONDITION]`, errs[0].String())
	}
	assert.Empty(t, compileErrors(t, `proc.name = "a\x41"`, EngineNext))
	assert.Empty(t, compileErrors(t, `proc.name = "a\\x41"`, Engine044), "an escaped backslash, then x")
	assert.Empty(t, compileErrors(t, "proc.pid contains 1", Engine037), "Falco 0.37 compiles it")
	assert.NotEmpty(t, compileErrors(t, "proc.pid contains 1", Engine038), "Falco 0.38 refuses it")
	assert.Empty(t, compileErrors(t, `proc.name regex "[a-z"`, Engine043), "Falco 0.43 fails at the first event, not at load")
}

// TestExceptionTransformerFields mirrors Falco's engine tests
// exceptions_fields_transformer, _quoted and _space_quoted
// (unit_tests/engine/test_rule_loader.cpp): from Falco 0.38 an exception
// field may be wrapped in a transformer; before, it is no field.
func TestExceptionTransformerFields(t *testing.T) {
	for _, field := range []string{"tolower(proc.name)", `"tolower(proc.name)"`, `"tolower( proc.name)"`} {
		rules := "- rule: test_rule\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  exceptions:\n" +
			"    - name: test_exception\n      fields: [" + field + "]\n      comps: [=]\n      values:\n        - [test]\n"
		rs := LoadBytes("rules.yaml", []byte(rules), Options{Engine: Engine044})
		assert.Empty(t, rs.Findings, field)
		rs = LoadBytes("rules.yaml", []byte(rules), Options{Engine: Engine037})
		if assert.Len(t, rs.Findings, 1, field) {
			assert.Contains(t, rs.Findings[0].String(), "rules.yaml:8:16: error: 'tolower")
			assert.Contains(t, rs.Findings[0].String(), "is not a supported filter field (rule 'test_rule') [LOAD_ERR_VALIDATE]")
		}
	}
	bad := "- rule: test_rule\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n  exceptions:\n" +
		"    - name: e\n      fields: [nosuch(proc.name)]\n      comps: [=]\n      values:\n        - [test]\n"
	rs := LoadBytes("rules.yaml", []byte(bad), Options{Engine: Engine044})
	require.Len(t, rs.Findings, 1)
	assert.Contains(t, rs.Findings[0].Message, "'nosuch(proc.name)' is not a supported filter field")
}

// TestCompilationWarnings mirrors libs' TEST(sinsp_filter_compiler,
// compilation_warnings) (filter_compiler.ut.cpp): a value that is a field
// or a transformer, and a regex a simpler operator could check, warn from
// Falco 0.39 (libs 0.18); the cases the heuristics leave alone do not.
func TestCompilationWarnings(t *testing.T) {
	warnings := func(cond string, engine Version) []string {
		rs := LoadBytes("t.yaml", []byte("- rule: r\n  desc: d\n  condition: "+quote("evt.type = open and "+cond)+"\n  output: o\n  priority: INFO\n"), Options{Engine: engine})
		var out []string
		for _, f := range rs.Findings {
			require.NotEqual(t, diag.Error, f.Severity, "%s: %s", cond, f)
			if f.Code == WarnCompileCondition {
				out = append(out, f.Message)
			}
		}
		return out
	}
	for _, cond := range []string{"evt.source = evt.plugininfo", "evt.source = 'tolower(evt.plugininfo)'",
		"evt.source regex syscall", "evt.source regex ^syscall$", "evt.source regex ^syscall", "evt.source regex syscall$",
		"evt.source regex .*syscall", "evt.source regex syscall.*", "evt.source regex .*syscall.*", "evt.source regex .+syscall",
		"evt.source regex syscall.+", "evt.source regex .+syscall.+", "evt.source regex .?syscall", "evt.source regex syscall.?",
		"evt.source regex .?syscall.?"} {
		assert.Len(t, warnings(cond, Engine044), 1, cond)
		if !strings.Contains(cond, "regex") { // regex itself is Falco 0.39's
			assert.Empty(t, warnings(cond, Engine038), "%s: Falco 0.38 does not warn", cond)
		}
	}
	for _, cond := range []string{"evt.source = unknown.field", "evt.source = tolower", "evt.source = tolower(evt.plugininfo)",
		"evt.source = 'tolow(evt.plugininfo)'", "evt.source regex syscall.{1}", `evt.source regex syscall\\.*`, "evt.source regex s.*l",
		"evt.source regex syscal[l]?"} {
		assert.Empty(t, warnings(cond, Engine044), cond)
	}
	assert.Equal(t, []string{"'evt.plugininfo' may be a valid field misused as a const string value"}, warnings("evt.source = evt.plugininfo", Engine044))
	assert.Equal(t, []string{"regex check with '.*syscall' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'"},
		warnings("evt.source regex .*syscall", Engine044))
}

// TestListNameWithBlank mirrors Falco's engine test list_name_invalid
// (unit_tests/engine/test_rule_loader.cpp): a list named with a blank
// loads, with the invalid-name warning only, because Falco substitutes
// list names into the condition text before parsing it.
func TestListNameWithBlank(t *testing.T) {
	rs := LoadBytes("rules.yaml", []byte(`- list: test list
  items: [open, openat, openat2]

- rule: test_rule
  desc: test rule description
  condition: evt.type in (test list)
  output: user=%user.name command=%proc.cmdline file=%fd.name
  priority: INFO
  enabled: false
`), Options{Engine: Engine044})
	require.Len(t, rs.Findings, 1, "%v", rs.Findings)
	assert.Equal(t, WarnInvalidListName, rs.Findings[0].Code)
	assert.Equal(t, []string{"open", "openat", "openat2"}, rs.Rule("test_rule").EventTypes.Names())
}
