package ruletest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules"
)

const explainRules = `
- list: shells
  items: [bash, sh]
- macro: spawned
  condition: evt.type in (execve, execveat)
- macro: shell
  condition: spawned and proc.name in (shells)
- rule: Shell
  desc: d
  condition: shell and not proc.pname = sshd and fd.types intersects (ipv4) and not proc.aname = cron
  output: o
  priority: INFO
- rule: Same
  desc: d
  condition: evt.type = execve and proc.name = val(proc.pname)
  output: o
  priority: INFO
`

// TestExplain: a failing case names the first part of the condition that
// was false with the event's value, or the parts that held when the rule
// fired though it should not.
func TestExplain(t *testing.T) {
	rs := rules.LoadBytes("rules.yaml", []byte(explainRules), rules.Options{})
	require.Zero(t, rs.Findings.Errors(), "%v", rs.Findings)
	s := NewSuite(rs)
	require.Empty(t, s.CompileErrors())
	tests := []struct {
		rule string
		ev   fv
		want string
	}{
		{"Shell", fv{"evt.type": "execve", "proc.name": "zsh"},
			`"proc.name in (bash, sh)" in macro 'shell' was false: proc.name is "zsh"`},
		{"Shell", fv{"evt.type": "open", "proc.name": "bash"},
			`"evt.type in (execve, execveat)" in macro 'spawned' was false: evt.type is "open"`},
		{"Shell", fv{"evt.type": "execve", "proc.name": "bash", "proc.pname": "sshd"},
			`"not proc.pname = sshd" was false: proc.pname is "sshd"`},
		{"Shell", fv{"evt.type": "execve", "proc.name": "bash", "proc.pname": "python"},
			`"fd.types intersects (ipv4)" was false: fd.types is not set`},
		{"Shell", fv{"evt.type": "execve", "proc.name": "bash", "fd.types": []string{"file", "unix"}},
			`"fd.types intersects (ipv4)" was false: fd.types is ("file", "unix")`},
		{"Shell", fv{"evt.type": "execve", "proc.name": "bash", "fd.types": []string{"ipv4"}, "proc.aname": []string{"sshd", "cron"}},
			`"not proc.aname = cron" was false: proc.aname is ("sshd", "cron")`},
		{"Same", fv{"evt.type": "execve", "proc.name": "a", "proc.pname": "b"},
			`"proc.name = val(proc.pname)" was false: proc.name is "a", proc.pname is "b"`},
		// fired though it should not: every part that had to hold
		{"Shell", fv{"evt.type": "execve", "proc.name": "sh", "fd.types": []string{"ipv4"}},
			`these held: "evt.type in (execve, execveat)" in macro 'spawned' (evt.type is "execve"), ` +
				`"proc.name in (bash, sh)" in macro 'shell' (proc.name is "sh"), "not proc.pname = sshd" (proc.pname is not set), ` +
				`"fd.types intersects (ipv4)" (fd.types is ("ipv4")), "not proc.aname = cron" (proc.aname is not set)`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			ev := buildEvent(t, tc.ev)
			_, why := s.programs[rs.Rule(tc.rule)].explain(ev)
			assert.Equal(t, tc.want, why)
		})
	}
}

// TestExplainMacroChain: explaining a chain of macros each using the
// previous one twice names each check once and stays linear.
func TestExplainMacroChain(t *testing.T) {
	rs := rules.LoadBytes("chain.yaml", []byte(macroChainRules(30)), rules.Options{})
	require.Zero(t, rs.Findings.Errors(), "%v", rs.Findings)
	p := NewSuite(rs).programs[rs.Rule("chain")]
	ev := growthEvent(t)
	matched, why := p.explain(ev)
	require.True(t, matched)
	assert.Contains(t, why, `"proc.name = bash" in macro 'm0' (proc.name is "bash")`)
	assert.Equal(t, 1, strings.Count(why, "m0"), why)
	ev = buildEvent(t, fv{"evt.type": "execve", "proc.name": "sh", "proc.pid": "0"})
	matched, why = p.explain(ev)
	require.False(t, matched)
	assert.Equal(t, `"proc.name = bash" in macro 'm0' was false: proc.name is "sh"`, why)
}

// TestRuleTestFailureMessage: the finding of a failed case carries the
// explanation.
func TestRuleTestFailureMessage(t *testing.T) {
	rs := rules.LoadBytes("rules.yaml", []byte(explainRules), rules.Options{})
	cases, err := Parse("t.yaml", []byte(`
- name: zsh
  event: {evt.type: execve, proc.name: zsh}
  fires: [Shell]
- name: same
  event: {evt.type: execve, proc.name: a, proc.pname: a}
  not_fires: [Same]
`))
	require.Nil(t, err)
	rep := Run(rs, cases)
	msgs := []string{}
	for _, res := range rep.Results {
		for _, f := range caseReport(res).Findings {
			msgs = append(msgs, f.Message)
		}
	}
	assert.Equal(t, []string{
		`case 'zsh': rule 'Shell': expected to fire, but "proc.name in (bash, sh)" in macro 'shell' was false: proc.name is "zsh" (fired: none)`,
		`case 'same': rule 'Same': expected not to fire, but these held: "evt.type = execve" (evt.type is "execve"), ` +
			`"proc.name = val(proc.pname)" (proc.name is "a", proc.pname is "a") (fired: 'Same')`,
	}, msgs)
}
