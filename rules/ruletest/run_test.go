package ruletest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcops/falcops/rules"
)

func loadRuleset(t testing.TB, dir string) (*rules.RulesetDir, *rules.Ruleset) {
	t.Helper()
	rds, fs := rules.Discover(dir)
	if fs.Errors() > 0 || len(rds) != 1 {
		t.Fatalf("%s: %v", dir, fs)
	}
	rs, fs := rules.LoadRuleset(rds[0], rules.Options{})
	if fs.Errors() > 0 {
		t.Fatalf("%s: %v", dir, fs)
	}
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
			if err != nil {
				t.Fatal(err)
			}
			if len(cases) == 0 {
				t.Fatal("no test cases")
			}
			rep := Run(rs, cases)
			for _, res := range rep.Results {
				if res.Case.Err != nil {
					t.Errorf("%v", res.Case.Err)
				}
				for _, c := range res.Failed() {
					t.Errorf("%s: %s: rule %q: expected fire=%v, got %v, err %v (fired: %v)",
						res.Case.Pos, res.Case.Name, c.Rule, c.Expected, c.Actual, c.Err, res.Fired)
				}
			}
			if len(rep.Coverage) != len(rs.Rules) {
				t.Errorf("coverage has %d rules, the ruleset %d", len(rep.Coverage), len(rs.Rules))
			}
			for _, g := range rep.Gaps() {
				t.Errorf("rule %q: %d firing, %d non-firing cases; want at least one of each", g.Rule.Name, g.Positive, g.Negative)
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
	if rs.Findings.Errors() > 0 {
		t.Fatal(rs.Findings)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	rep := Run(rs, cases)
	passed, failed := rep.Counts()
	if passed != 3 || failed != 3 {
		t.Fatalf("passed %d failed %d, want 3 and 3", passed, failed)
	}
	wrong := rep.Results[2]
	if c := wrong.Failed(); len(c) != 1 || c[0].Rule != "Shell" || c[0].Expected || !c[0].Actual || c[0].Err != nil {
		t.Errorf("wrong expectation: %+v", c)
	}
	if len(wrong.Fired) != 1 || wrong.Fired[0] != "Shell" {
		t.Errorf("fired: %v", wrong.Fired)
	}
	probs := rep.Results[3].Failed()
	if len(probs) != 3 || !errors.Is(probs[0].Err, ErrRuleDisabled) || !errors.Is(probs[1].Err, ErrUnknownRule) || !errors.Is(probs[2].Err, ErrWrongSource) {
		t.Errorf("problems: %+v", probs)
	}
	if probs[1].Pos.Line != 13 {
		t.Errorf("unknown rule position: %+v", probs[1].Pos)
	}
	mal := rep.Results[5]
	if mal.Case.Err == nil || mal.Case.Err.Line != 18 || !strings.Contains(mal.Case.Err.Message, "unknown field 'proc.nmae'") {
		t.Errorf("malformed case: %v", mal.Case.Err)
	}
	// Coverage: Disabled is not loaded; Shell has both kinds; Audit only positive.
	if len(rep.Coverage) != 2 {
		t.Fatalf("coverage: %+v", rep.Coverage)
	}
	gaps := rep.Gaps()
	if len(gaps) != 1 || gaps[0].Rule.Name != "Audit" || gaps[0].Positive != 2 || gaps[0].Negative != 0 {
		t.Errorf("gaps: %+v", gaps)
	}
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
		if err != nil || len(cases) != 1 {
			t.Errorf("%q: %v %d", tc.yaml, err, len(cases))
			continue
		}
		e := cases[0].Err
		if e == nil || e.Line != tc.line || !strings.Contains(e.Message, tc.want) || e.Code != CodeInvalid {
			t.Errorf("%q: error %v, want line %d and %q", tc.yaml, e, tc.line, tc.want)
		}
	}
	// file-level problems
	for _, bad := range []string{"a: b\n", "- name: [\n"} {
		if _, f := Parse("t.yaml", []byte(bad)); f == nil || f.Code != CodeInvalid || f.Line < 1 {
			t.Errorf("%q: want an error", bad)
		}
	}
	// null values are missing fields; YAML booleans are normalised
	cases, err := Parse("t.yaml", []byte("- name: a\n  event: {proc.name: ~, evt.is_open_write: True}\n  fires: [x]\n"))
	if err != nil || cases[0].Err != nil {
		t.Fatalf("%v %v", err, cases[0].Err)
	}
	if f := cases[0].Event.Fields(); len(f) != 1 || f[0] != "evt.is_open_write" {
		t.Errorf("fields: %v", f)
	}
}

func TestRuleTestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if cs, err := Load(filepath.Join(dir, "missing")); cs != nil || err != nil {
		t.Errorf("a missing folder holds no cases: %v %v", cs, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("- name: b\n  event: {}\n  fires: [x]\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a.yml"), []byte("- name: a\n  event: {}\n  fires: [x]\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("{{{"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644))
	cases, err := Load(dir)
	if len(cases) != 2 || cases[0].Name != "a" || cases[1].Name != "b" {
		t.Errorf("cases: %v", cases)
	}
	if len(err) != 1 || !strings.HasSuffix(err[0].File, "c.yaml") || err[0].Line != 1 {
		t.Errorf("findings: %v", err)
	}
}
