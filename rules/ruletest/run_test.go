package ruletest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules"
)

func loadRuleset(t testing.TB, dir string) (*rules.RulesetDir, *rules.Ruleset) {
	t.Helper()
	rds, fs := rules.Discover(dir)
	require.Zero(t, fs.Errors(), "%s: %v", dir, fs)
	require.Len(t, rds, 1, dir)
	rs, fs := rules.LoadRuleset(rds[0], rules.Options{})
	require.Zero(t, fs.Errors(), "%s: %v", dir, fs)
	return rds[0], rs
}

// TestRuleTestRepositoryRulesets runs the tests of the repository's own
// rulesets: every case passes, and every rule has a firing and a
// non-firing case.
func TestRuleTestRepositoryRulesets(t *testing.T) {
	for _, name := range []string{"heartbeat", "custom-example"} {
		t.Run(name, func(t *testing.T) {
			rd, rs := loadRuleset(t, filepath.Join("..", "..", "rulesets", name))
			cases, err := Load(filepath.Join(rd.Dir, "tests"))
			require.Nil(t, err)
			require.NotEmpty(t, cases, "no test cases")
			rep := Run(rs, cases)
			for _, res := range rep.Results {
				assert.Nil(t, res.Case.Err)
				for _, c := range res.Failed() {
					assert.Fail(t, "case failed", "%s: %s: rule %q: expected fire=%v, got %v, err %v (fired: %v)",
						res.Case.Pos, res.Case.Name, c.Rule, c.Expected, c.Actual, c.Err, res.Fired)
				}
			}
			assert.Len(t, rep.Coverage, len(rs.Rules), "coverage")
			for _, g := range rep.Gaps() {
				assert.Fail(t, "coverage gap", "rule %q: %d firing, %d non-firing cases; want at least one of each", g.Rule.Name, g.Positive, g.Negative)
			}
		})
	}
}

const testRules = `
- required_engine_version: 0.31.0
- list: shells
  items: [bash, sh]
- macro: spawned
  condition: evt.type = execve
- rule: Shell
  desc: d
  condition: spawned and proc.name in (shells)
  exceptions:
    - name: parents
      fields: [proc.pname]
      comps: [in]
      values: [[sshd]]
  output: shell %proc.name
  priority: WARNING
- rule: Disabled
  desc: d
  condition: evt.type = open
  output: o
  priority: INFO
  enabled: false
- rule: Audit
  desc: d
  condition: ka.verb = create
  output: o %ka.verb
  priority: INFO
  source: k8s_audit
`

func TestRuleTestRunChecks(t *testing.T) {
	rs := rules.LoadBytes("rules.yaml", []byte(testRules), rules.Options{})
	require.Zero(t, rs.Findings.Errors(), "%v", rs.Findings)
	cases, err := Parse("t.yaml", []byte(`
- name: fires
  event: {evt.type: execve, proc.name: bash, proc.pname: python}
  fires: [Shell]
- name: exception
  event: {evt.type: execve, proc.name: bash, proc.pname: sshd}
  not_fires: [Shell, Disabled]
- name: wrong expectation
  event: {evt.type: execve, proc.name: bash}
  not_fires: [Shell]
- name: problems
  event: {evt.type: open}
  fires: [Disabled, Nope, Audit]
- name: audit
  event: {source: k8s_audit, ka.verb: create}
  fires: Audit
- name: malformed
  event: {proc.nmae: x}
  fires: [Shell]
`))
	require.Nil(t, err)
	rep := Run(rs, cases)
	passed, failed := rep.Counts()
	require.Equal(t, [2]int{3, 3}, [2]int{passed, failed}, "passed, failed")
	wrong := rep.Results[2]
	if c := wrong.Failed(); assert.Len(t, c, 1, "wrong expectation") {
		assert.Equal(t, "Shell", c[0].Rule)
		assert.False(t, c[0].Expected)
		assert.True(t, c[0].Actual)
		assert.NoError(t, c[0].Err)
	}
	assert.Equal(t, []string{"Shell"}, wrong.Fired)
	probs := rep.Results[3].Failed()
	require.Len(t, probs, 3, "problems: %+v", probs)
	assert.ErrorIs(t, probs[0].Err, ErrRuleDisabled)
	assert.ErrorIs(t, probs[1].Err, ErrUnknownRule)
	assert.ErrorIs(t, probs[2].Err, ErrWrongSource)
	assert.Equal(t, 13, probs[1].Pos.Line, "unknown rule position")
	mal := rep.Results[5]
	require.NotNil(t, mal.Case.Err, "malformed case")
	assert.Equal(t, 18, mal.Case.Err.Line)
	assert.Contains(t, mal.Case.Err.Message, "unknown field 'proc.nmae'")
	// Coverage: Disabled is not loaded; Shell has both kinds; Audit only positive.
	require.Len(t, rep.Coverage, 2, "coverage: %+v", rep.Coverage)
	gaps := rep.Gaps()
	require.Len(t, gaps, 1, "gaps: %+v", gaps)
	assert.Equal(t, "Audit", gaps[0].Rule.Name)
	assert.Equal(t, 2, gaps[0].Positive)
	assert.Zero(t, gaps[0].Negative)
}

func TestRuleTestLoadErrors(t *testing.T) {
	tests := []struct {
		yaml string
		line int
		want string
	}{
		{"- name: a\n  event: {proc.name: [a, b]}\n  fires: [x]\n", 2, "single-valued"},
		{"- name: a\n  event:\n    proc.tty: [1]\n    proc.name: x\n  fires: [x]\n", 3, "single-valued"},
		{"- name: a\n  event:\n    proc.tty: abc\n  fires: [x]\n", 3, "abc is not a valid number"},
		{"- name: a\n  event:\n    fd.cport: 1\n    fd.ip: [10.0.0.1, 10.0.0]\n  fires: [x]\n", 4, "unrecognized IPv4 address"},
		{"- name: a\n  event: {evt.type: exceve}\n  fires: [x]\n", 2, "unknown event type"},
		{"- name: a\n  event: {source: nope}\n  fires: [x]\n", 2, "unknown event source 'nope'"},
		{"- name: a\n  event: {}\n", 1, "names no rule"},
		{"- name: a\n  fires: [x]\n", 1, "has no event"},
		{"- event: {}\n  fires: [x]\n", 1, "has no name"},
		{"- name: a\n  event: {}\n  fires: [x]\n  not_fires: [x]\n", 4, "listed in fires and not_fires"},
		{"- name: a\n  event: {}\n  fire: [x]\n", 3, "unknown key 'fire'"},
		{"- name: a\n  event: {proc.name: {a: b}}\n  fires: [x]\n", 2, "expected a value or a list"},
		{"- just a string\n", 1, "a case is a mapping"},
	}
	for _, tc := range tests {
		cases, err := Parse("t.yaml", []byte(tc.yaml))
		if !assert.Nil(t, err, "%q", tc.yaml) || !assert.Len(t, cases, 1, "%q", tc.yaml) {
			continue
		}
		e := cases[0].Err
		if assert.NotNil(t, e, "%q", tc.yaml) {
			assert.Equal(t, tc.line, e.Line, "%q", tc.yaml)
			assert.Contains(t, e.Message, tc.want, "%q", tc.yaml)
			assert.Equal(t, CodeInvalid, e.Code, "%q", tc.yaml)
		}
	}
	// file-level problems
	for _, bad := range []string{"a: b\n", "- name: [\n"} {
		_, f := Parse("t.yaml", []byte(bad))
		if assert.NotNil(t, f, "%q: want an error", bad) {
			assert.Equal(t, CodeInvalid, f.Code, "%q", bad)
			assert.GreaterOrEqual(t, f.Line, 1, "%q", bad)
		}
	}
	// null values are missing fields; YAML booleans are normalised
	cases, err := Parse("t.yaml", []byte("- name: a\n  event: {proc.name: ~, evt.is_open_write: True}\n  fires: [x]\n"))
	require.Nil(t, err)
	require.Nil(t, cases[0].Err)
	assert.Equal(t, []string{"evt.is_open_write"}, cases[0].Event.Fields())
}

func TestRuleTestLoadDir(t *testing.T) {
	dir := t.TempDir()
	cs, errs := Load(filepath.Join(dir, "missing"))
	assert.Nil(t, cs, "a missing folder holds no cases")
	assert.Nil(t, errs, "a missing folder holds no cases")
	for name, data := range map[string]string{
		"b.yaml":    "- name: b\n  event: {}\n  fires: [x]\n",
		"a.yml":     "- name: a\n  event: {}\n  fires: [x]\n",
		"c.yaml":    "{{{",
		"notes.txt": "ignored",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	cases, errs := Load(dir)
	if assert.Len(t, cases, 2) {
		assert.Equal(t, "a", cases[0].Name)
		assert.Equal(t, "b", cases[1].Name)
	}
	if assert.Len(t, errs, 1, "findings") {
		assert.True(t, strings.HasSuffix(errs[0].File, "c.yaml"), "findings: %v", errs)
		assert.Equal(t, 1, errs[0].Line)
	}
}
