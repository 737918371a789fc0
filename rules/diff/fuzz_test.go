package diff

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules"
)

// FuzzDiffCompare diffs two arbitrary rules files, which may not even load
// cleanly (the gate diffs a base revision it does not validate): Compare
// must not panic, must be deterministic, and every change must be complete.
func FuzzDiffCompare(f *testing.F) {
	base := "- required_engine_version: 0.31.0\n- list: l\n  items: [a, b]\n- macro: m\n  condition: proc.name in (l)\n" +
		"- macro: never_true\n  condition: (evt.num=0)\n" +
		"- rule: r\n  desc: d\n  condition: evt.type = execve and m and not never_true\n  output: \"%proc.name\"\n  priority: WARNING\n" +
		"  exceptions:\n  - name: e\n    fields: [proc.pname]\n    values: [[x]]\n"
	f.Add(base, strings.Replace(base, "items: [a, b]", "items: [a]", 1))
	f.Add(base, strings.Replace(base, "evt.type = execve", "evt.type in (execve, execveat) or (proc.name = x and not m)", 1))
	f.Add(base, strings.Replace(base, "proc.name in (l)", "m", 1)) // a macro loop
	f.Add(base, strings.Replace(base, "- list: l\n  items: [a, b]\n", "- list: l\n  items: [l, a]\n", 1))
	f.Add(base, "")
	f.Add("- rule: r\n  condition: (((", base)
	f.Fuzz(func(t *testing.T, oldText, newText string) {
		o := rules.LoadBytes("old.yaml", []byte(oldText), rules.Options{})
		n := rules.LoadBytes("new.yaml", []byte(newText), rules.Options{})
		rep := Compare(o, n)
		require.Equal(t, rep, Compare(o, n), "two diffs differ")
		highest := None
		for _, c := range rep.Changes {
			assert.True(t, c.Kind != "" && c.Change != "" && c.Reason != "" && c.Bump >= None && c.Bump <= Major, "incomplete change %+v", c)
			highest = max(highest, c.Bump)
		}
		assert.Equal(t, highest, rep.RequiredBump, "required bump vs the highest change")
		if oldText == newText {
			assert.Empty(t, rep.Changes, "identical texts have changes")
		}
	})
}

// FuzzDiffConditions diffs a rule whose condition changes from a to b,
// with macros and lists to expand: the normaliser and the prover must not
// panic, and a condition compared with itself must be no change.
func FuzzDiffConditions(f *testing.F) {
	for _, s := range [][2]string{
		{"evt.type = execve and m", "evt.type in (execve, execveat) and not (m or proc.name in (l))"},
		{"not never_true and proc.name pmatch (l)", "proc.name pmatch (l, c) or evt.num = 0"},
		{"(a or b) and proc.tty != 0", "((proc.name = x and proc.tty != 0) or (proc.pname = y and proc.tty != 0))"},
		{"proc.args contains allof (x, y)", "tolower(proc.name) startswith oneof (a)"},
	} {
		f.Add(s[0], s[1])
	}
	const prelude = "- list: l\n  items: [a, b, l2]\n- list: l2\n  items: [c]\n- macro: never_true\n  condition: (evt.num=0)\n" +
		"- macro: m\n  condition: proc.name in (l) or never_true\n"
	f.Fuzz(func(t *testing.T, a, b string) {
		rule := func(cond string) string {
			return prelude + "- rule: r\n  desc: d\n  condition: " + yamlQuote(cond) + "\n  output: o\n  priority: WARNING\n"
		}
		o := rules.LoadBytes("old.yaml", []byte(rule(a)), rules.Options{})
		n := rules.LoadBytes("new.yaml", []byte(rule(b)), rules.Options{})
		require.Equal(t, Compare(o, n), Compare(o, n), "two diffs differ")
		assert.Empty(t, Compare(o, o).Changes, "a ruleset compared with itself")
	})
}

// yamlQuote makes any string a double-quoted YAML scalar.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
