package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
)

// The broken rules files in testdata/broken, one per error class, carry their
// expected findings inline, as go/parser's testdata does. A marker at the end
// of a line expects a finding on that line, at the first character of its
// content (after the indentation and any "- " sequence indicators):
//
//	list: l  # ERROR LOAD_ERR_YAML_VALIDATE "Item has no mapping for key 'items'"
//
// A marker on a comment line of its own points with a caret at the column,
// on the nearest line above that is not such a caret line; this is also the
// way to mark a line inside a multi-line scalar, where a comment would be
// part of the value:
//
//	  priority: INFOO
//	#           ^ ERROR LOAD_ERR_YAML_VALIDATE "Invalid priority"
//
// The message is a Go string literal ("..." or `...`) that the finding's
// message must contain; WARNING instead of ERROR expects a warning. A comment
// line "# engine: X.Y.Z" before the first item sets the engine version.
//
// Every expected finding must be reported, and no other error may be (other
// warnings may).
const brokenDir = "testdata/broken"

// expectation is one marker: a finding that must be reported.
type expectation struct {
	line, col int
	severity  diag.Severity
	code, msg string
}

func (e expectation) String() string {
	return fmt.Sprintf("%d:%d %s %s %q", e.line, e.col, e.severity, e.code, e.msg)
}

// fixture is a broken file's expectations and the engine to load it with.
type fixture struct {
	engine Version
	want   []expectation
}

var (
	markerRgx = regexp.MustCompile(`(?:^|\s)#(\s*\^)?\s*(ERROR|WARNING)\b\s*(.*)$`)
	engineRgx = regexp.MustCompile(`^# engine: (\S+)$`)
)

// parseFixture reads the markers and the engine line of a broken file.
func parseFixture(data []byte) (fixture, error) {
	var fx fixture
	lines := strings.Split(string(data), "\n")
	target := 0 // the line a caret points at
	inHeader := true
	for i, ln := range lines {
		n := i + 1
		isComment := strings.HasPrefix(strings.TrimSpace(ln), "#")
		if inHeader && !isComment {
			inHeader = false
		}
		if m := engineRgx.FindStringSubmatch(ln); m != nil && inHeader {
			v, err := ParseVersion(m[1])
			if err != nil {
				return fx, fmt.Errorf("line %d: %w", n, err)
			}
			fx.engine = v
			continue
		}
		loc := markerRgx.FindStringSubmatchIndex(ln)
		if loc == nil {
			target = n
			continue
		}
		e := expectation{line: n, severity: diag.Error}
		if ln[loc[4]:loc[5]] == "WARNING" {
			e.severity = diag.Warning
		}
		code, quoted, _ := strings.Cut(ln[loc[6]:loc[7]], " ")
		msg, err := unquoteAll(strings.TrimSpace(quoted))
		if code == "" || err != nil {
			return fx, fmt.Errorf("line %d: want a marker `ERROR CODE \"message\"`, got %q", n, ln[loc[0]:])
		}
		e.code, e.msg = code, msg
		if loc[2] >= 0 { // a caret line
			if !isComment {
				return fx, fmt.Errorf("line %d: a caret marker must stand on a comment line of its own", n)
			}
			if target == 0 {
				return fx, fmt.Errorf("line %d: a caret marker with no line above", n)
			}
			e.line = target
			e.col = utf8.RuneCountInString(ln[:loc[3]-1]) + 1
		} else {
			target = n
			e.col = contentColumn(ln)
		}
		fx.want = append(fx.want, e)
	}
	return fx, nil
}

// unquoteAll unquotes a Go string literal that must be all of s.
func unquoteAll(s string) (string, error) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", err
	}
	if q != s {
		return "", fmt.Errorf("text after the message: %q", s[len(q):])
	}
	return strconv.Unquote(q)
}

// contentColumn is the column of a line's first character after the
// indentation and any "- " sequence indicators.
func contentColumn(ln string) int {
	i := 0
	for {
		for i < len(ln) && (ln[i] == ' ' || ln[i] == '\t') {
			i++
		}
		if !strings.HasPrefix(ln[i:], "- ") {
			break
		}
		i += 2
	}
	return utf8.RuneCountInString(ln[:i]) + 1
}

// check returns what is wrong with the findings of the file: an expected
// finding that is missing, an error that is not expected, a finding in
// another file.
func (fx fixture) check(file string, fs diag.Findings) []string {
	var problems []string
	used := make([]bool, len(fs))
	for _, e := range fx.want {
		found := false
		for i, f := range fs {
			if !used[i] && f.Line == e.line && f.Column == e.col && f.Code == e.code && f.Severity == e.severity &&
				strings.Contains(f.Message, e.msg) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			problems = append(problems, "missing: "+e.String())
		}
	}
	for i, f := range fs {
		if f.File != file {
			problems = append(problems, "in another file: "+f.String())
		}
		if !used[i] && f.Severity == diag.Error {
			problems = append(problems, "unexpected: "+f.String())
		}
	}
	return problems
}

func findingsString(fs diag.Findings) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n\t%s", f)
	}
	return b.String()
}

func TestBrokenFiles(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(brokenDir, "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 60, "broken files")
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			src, err := ReadSource(path)
			require.NoError(t, err)
			fx, err := parseFixture(src.Data)
			require.NoError(t, err)
			require.True(t, hasError(fx.want), "a broken file must expect an error")
			rs := Load([]*Source{src}, Options{Engine: fx.engine})
			assert.Empty(t, fx.check(path, rs.Findings), "all findings:%s", findingsString(rs.Findings))
		})
	}
}

func hasError(want []expectation) bool {
	for _, e := range want {
		if e.severity == diag.Error {
			return true
		}
	}
	return false
}

// TestBrokenFixtureHarness shows that the harness above fails on wrong
// expectations, and on markers it cannot read.
func TestBrokenFixtureHarness(t *testing.T) {
	const good = "- list: l\n  items: a\n#        ^ ERROR LOAD_ERR_YAML_VALIDATE \"Value is not a sequence\"\n"
	for _, tc := range []struct {
		name, yaml string
		problems   []string // substrings, one per problem, in order
		parseErr   string
	}{
		{name: "right", yaml: good},
		{name: "wrong column", yaml: "- list: l\n  items: a  # ERROR LOAD_ERR_YAML_VALIDATE \"Value is not a sequence\"\n",
			problems: []string{"missing: 2:3 error", "unexpected: f.yaml:2:10"}},
		{name: "wrong line", yaml: "- list: l  # ERROR LOAD_ERR_YAML_VALIDATE \"Value is not a sequence\"\n  items: a\n",
			problems: []string{"missing: 1:3 error", "unexpected: f.yaml:2:10"}},
		{name: "wrong code", yaml: strings.Replace(good, "LOAD_ERR_YAML_VALIDATE", "LOAD_ERR_VALIDATE", 1),
			problems: []string{"missing: 2:10 error LOAD_ERR_VALIDATE", "unexpected: f.yaml:2:10"}},
		{name: "wrong message", yaml: strings.Replace(good, "a sequence", "a mapping", 1),
			problems: []string{`missing: 2:10 error LOAD_ERR_YAML_VALIDATE "Value is not a mapping"`, "unexpected: f.yaml:2:10"}},
		{name: "wrong severity", yaml: strings.Replace(good, "ERROR", "WARNING", 1),
			problems: []string{"missing: 2:10 warning", "unexpected: f.yaml:2:10"}},
		{name: "no marker", yaml: "- list: l\n  items: a\n", problems: []string{"unexpected: f.yaml:2:10"}},
		{name: "unquoted message", yaml: "- list: l  # ERROR LOAD_ERR_YAML_VALIDATE Value\n", parseErr: "line 1: want a marker"},
		{name: "text after the message", yaml: "- list: l  # ERROR X \"a\" b\n", parseErr: "line 1: want a marker"},
		{name: "caret with no line above", yaml: "# ^ ERROR X \"a\"\n", parseErr: "no line above"},
		{name: "caret after content", yaml: "- list: l  # ^ ERROR X \"a\"\n", parseErr: "comment line of its own"},
		{name: "bad engine", yaml: "# engine: 0.x\n- list: l\n", parseErr: "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx, err := parseFixture([]byte(tc.yaml))
			if tc.parseErr != "" {
				require.ErrorContains(t, err, tc.parseErr)
				return
			}
			require.NoError(t, err)
			rs := LoadBytes("f.yaml", []byte(tc.yaml), Options{Engine: fx.engine})
			problems := fx.check("f.yaml", rs.Findings)
			require.Len(t, problems, len(tc.problems), "problems: %q", problems)
			for i, p := range tc.problems {
				assert.Contains(t, problems[i], p)
			}
		})
	}
}

// TestErrorsDoNotStopLoading: after an item's error the loader keeps
// reading, so the items after it are collected.
func TestErrorsDoNotStopLoading(t *testing.T) {
	src, err := ReadSource(filepath.Join(brokenDir, "structure-several-independent-errors.yaml"))
	require.NoError(t, err)
	rs := Load([]*Source{src}, Options{})
	assert.NotNil(t, rs.Rule("r2"), "rule after an error")
	assert.NotNil(t, rs.Rule("r4"), "rule in the document after an error")
}

// checkFindings reports findings without a position, code or known severity.
func checkFindings(t testing.TB, name string, rs *Ruleset) {
	t.Helper()
	for _, f := range rs.Findings {
		assert.True(t, f.Line >= 1 && f.Column >= 1, "%s: finding with invalid position: %s", name, f)
		assert.NotEmpty(t, f.Code, "%s: finding without code: %s", name, f)
		assert.Contains(t, []diag.Severity{diag.Error, diag.Warning}, f.Severity, "%s: finding with unknown severity: %s", name, f)
	}
}

// deepCondition is a rule whose condition nests n parentheses.
func deepCondition(n int) string {
	return "- rule: r\n  desc: d\n  condition: " + strings.Repeat("(", n) + "evt.type = open" + strings.Repeat(")", n) +
		"\n  output: o\n  priority: WARNING\n"
}

// nastyInputs are inputs that must not crash the loader: the files in
// testdata/nasty and testdata/broken, and here those that are generated,
// one-liners, or bytes a text file would hide.
func nastyInputs(t testing.TB) map[string]string {
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
	inputs := map[string]string{
		"empty":                    ``,
		"only separator":           "---\n",
		"separators":               "---\n---\n...\n---\n",
		"null item":                "- ~\n",
		"null document":            "~\n",
		"empty sequence item":      "- []\n",
		"empty mapping item":       "- {}\n",
		"nested empty":             "- [[[]]]\n- {a: {b: {}}}\n",
		"bom":                      "\ufeff- list: l\n  items: []\n",
		"binary garbage":           string(garbage),
		"nul and high bytes":       "\x00\xff\xfe- rule: \x00\n",
		"invalid utf8 in rule":     "- rule: \"\\xff\"\n  desc: \xff\xfe\n  condition: proc.name = \xc3\x28\n  output: \xff%\n  priority: INFO\n",
		"self-referencing anchors": "- &x {rule: r, exceptions: [{name: e, fields: *x, values: [*x]}]}\n- &y [*y]\n",
		"alias as key":             "- &k rule\n- {*k : r, desc: d, condition: evt.type = open, output: o, priority: WARNING}\n",
		"unknown alias":            "- rule: *nosuch\n",
		"tags":                     "- !!map {list: !!str l, items: !!seq [!!int 1, !!binary aGk=]}\n- !custom {macro: m, condition: !!null }\n",
		"deep condition":           deepCondition(10000),
		"deep not":                 deepNot,
		"deep yaml":                deepList,
		"unicode positions":        "- rule: \"r\u00e9\"\n  desc: \u65e5\u672c\n  condition: proc.name = \u00e9\u00e9 and \u65e5 = x\n  output: \u00e9 %proc.\u00e9\n  priority: WARNING\n",
	}
	for _, dir := range []string{"testdata/nasty", brokenDir} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		require.NoError(t, err)
		require.NotEmpty(t, paths, dir)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			inputs[p] = string(data)
		}
	}
	return inputs
}

func TestNastyInputsDoNotPanic(t *testing.T) {
	engines := []string{"", "0.26.0", "0.31.0", "0.40.0", "0.57.0", "0.62.0", "0.63.0", "1.0.0"}
	for name, src := range nastyInputs(t) {
		t.Run(name, func(t *testing.T) {
			for _, eng := range engines {
				var opts Options
				if eng != "" {
					opts.Engine = MustVersion(eng)
				}
				require.NotPanics(t, func() {
					rs := LoadBytes("nasty.yaml", []byte(src), opts)
					checkFindings(t, name+" engine "+eng, rs)
					for _, r := range rs.Rules {
						rs.Expand(r)
					}
				}, "engine %q", eng)
			}
		})
	}
}
