package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules"
)

// compareTexts loads two small rules files (no errors allowed) and diffs them.
func compareTexts(t *testing.T, oldText, newText string) Report {
	t.Helper()
	return Compare(loadText(t, "old.yaml", oldText), loadText(t, "new.yaml", newText))
}

func ruleYAML(name, cond string) string {
	return fmt.Sprintf("- rule: %s\n  desc: d\n  condition: %s\n  output: o %%proc.name\n  priority: WARNING\n", name, cond)
}

// conditionChange diffs a rule whose condition goes from a to b (with the
// given macros and lists before it) and returns the one change to the rule.
func conditionChange(t *testing.T, prelude, a, b string) (Change, bool) {
	t.Helper()
	rep := compareTexts(t, prelude+ruleYAML("R", a), prelude+ruleYAML("R", b))
	var out []Change
	for _, c := range rep.Changes {
		if c.Kind == KindRule && c.Name == "R" {
			out = append(out, c)
		}
	}
	require.LessOrEqual(t, len(out), 1, "%q -> %q: changes: %+v", a, b, out)
	if len(out) == 0 {
		return Change{}, false
	}
	return out[0], true
}

func TestDiffConditionRelations(t *testing.T) {
	const prelude = `- macro: never_true
  condition: (evt.num=0)
- macro: always_true
  condition: (evt.num>=0)
- macro: spawned
  condition: evt.type in (execve, execveat)
- list: shells
  items: [bash, sh]
- list: empty
  items: []
`
	tests := []struct {
		a, b, change string // change "" means no change at all
	}{
		// equal after normalisation
		{"spawned and proc.name = bash", "proc.name = bash and spawned", ChangeConditionRefactored},
		{"spawned and proc.name = bash", "spawned  and\n   proc.name=bash", ""},
		{"spawned and not not proc.name = bash", "spawned and proc.name = bash", ""},
		{"spawned and not not proc.name = bash", "spawned and not (not proc.name = bash and proc.name exists)", ChangeConditionWidened},
		{"spawned and not (proc.name = a or proc.name = b)", "spawned and not proc.name = a and not proc.name = b", ChangeConditionRefactored},
		{"spawned and proc.name in (a, b)", "spawned and (proc.name = b or proc.name = a)", ChangeConditionRefactored},
		{"spawned and proc.name in (a, b)", "spawned and proc.name in (b, a, a)", ChangeConditionRefactored},
		{"spawned and proc.name = a", "spawned and proc.name in (a)", ChangeConditionRefactored},
		{"spawned and proc.name = a", "spawned and proc.name == a", ChangeConditionRefactored},
		{"spawned and proc.name = a", "spawned and proc.name = a and proc.name = a", ChangeConditionRefactored},
		{"spawned and proc.name = a", "spawned and proc.name = a and not never_true", ChangeConditionRefactored},
		{"spawned and proc.name = a", "spawned and proc.name = a and always_true", ChangeConditionRefactored},
		{"spawned and proc.name = a", "spawned and (proc.name = a or never_true)", ChangeConditionWidened},
		{"spawned and proc.name = a", "spawned and proc.name = a and never_true", ChangeConditionNarrowed},
		{"spawned and proc.name = a and proc.pname in (empty)", "spawned and proc.pname in (empty)", ChangeConditionWidened},
		{"spawned and proc.name = a", "spawned and proc.name = a and not proc.pname in (empty)", ChangeConditionRefactored},
		{"spawned and proc.name in (shells)", "spawned and proc.name in (bash, sh)", ChangeConditionRefactored},
		// equivalent, shown by implication both ways
		{"spawned and proc.name = a", "spawned and proc.name = a and (proc.name = a or proc.pname = b)", ChangeConditionRefactored},
		{"spawned and (proc.name = a or proc.pname = b) and proc.cwd = c", "spawned and ((proc.name = a and proc.cwd = c) or (proc.pname = b and proc.cwd = c))", ChangeConditionRefactored},
		// narrower
		{"spawned", "spawned and proc.name = bash", ChangeConditionNarrowed},
		{"spawned and proc.name in (a, b)", "spawned and proc.name = a", ChangeConditionNarrowed},
		{"spawned and not proc.name = a", "spawned and not proc.name in (a, b)", ChangeConditionNarrowed},
		{"spawned and (proc.name = a or proc.pname = b)", "spawned and proc.pname = b", ChangeConditionNarrowed},
		{"spawned and proc.args contains allof (x)", "spawned and proc.args contains allof (x, y)", ChangeConditionNarrowed},
		{"spawned and proc.name != bash", "spawned and not proc.name = bash and proc.name != bash", ChangeConditionRefactored},
		{"spawned and proc.name = bash", "spawned and proc.name = bash and not never_true and proc.tty != 0", ChangeConditionNarrowed},
		// wider
		{"spawned and proc.name = bash", "spawned", ChangeConditionWidened},
		{"spawned and proc.name = a", "spawned and proc.name startswith oneof (a)", ChangeConditionChanged},
		{"spawned and proc.name startswith oneof (a)", "spawned and proc.name startswith oneof (a, b)", ChangeConditionWidened},
		{"spawned and fd.name pmatch (/etc)", "spawned and fd.name pmatch (/etc, /usr)", ChangeConditionWidened},
		{"spawned and (proc.name = a) and proc.cwd = c", "spawned and (proc.name = a or proc.pname = b) and proc.cwd = c", ChangeConditionWidened},
		{"spawned and ((proc.name = a and proc.cwd = c) or (proc.pname = b and proc.cwd = c))", "spawned and (proc.name = a or proc.pname = b)", ChangeConditionWidened},
		// event types
		{"evt.type = execve and proc.name = a", "evt.type in (execve, execveat) and proc.name = a", ChangeEventTypesAdded},
		{"evt.type in (execve, execveat) and proc.name = a", "evt.type = execve and proc.name = a", ChangeEventTypesRemoved},
		{"evt.type in (execve, execveat) and proc.name = a", "evt.type = execve and proc.name in (a, b)", ChangeEventTypesRemoved},
		// undecidable
		{"spawned and proc.name = a", "spawned and proc.name = b", ChangeConditionChanged},
		{"spawned and proc.name = a", "spawned and proc.pname = a", ChangeConditionChanged},
		{"spawned and proc.tty != 0", "spawned and proc.tty > 0", ChangeConditionChanged},
		{"spawned and proc.name != a", "spawned and not proc.name in (a, b)", ChangeConditionChanged},
	}
	for _, tc := range tests {
		t.Run(tc.a+" -> "+tc.b, func(t *testing.T) {
			c, ok := conditionChange(t, prelude, tc.a, tc.b)
			if tc.change == "" {
				require.False(t, ok, "want no change, got %+v", c)
				return
			}
			require.True(t, ok, "no change")
			require.Equal(t, tc.change, c.Change, "%s: %s", c.Bump, c.Reason)
		})
	}
}

func TestDiffExplanations(t *testing.T) {
	const prelude = "- list: allowed\n  items: [a, b]\n- macro: spawned\n  condition: evt.type in (execve, execveat)\n"
	tests := []struct{ a, b, reason string }{
		{"spawned", "spawned and proc.name = x", "added conjunct `proc.name = x`"},
		{"spawned and proc.name = x", "spawned", "removed conjunct `proc.name = x`"},
		{"spawned and proc.name = x", "spawned and (proc.name = x or proc.pname = y)", "added alternative `proc.pname = y`"},
		{"spawned and not proc.name in (allowed)", "spawned and not proc.name in (allowed, c)",
			"`proc.name in (...)` (from list `allowed`) gained `c` under a negation"},
		{"spawned and proc.name = x", "spawned and proc.pname = x", "`proc.name = x` became `proc.pname = x`"},
		{"spawned and proc.name = x", "spawned and proc.name = x and proc.pname = y and proc.cwd = z and proc.exe = w and proc.tty = 1",
			"added conjuncts `proc.cwd = z`, `proc.exe = w`, `proc.pname = y`, and 1 more"},
	}
	for _, tc := range tests {
		c, ok := conditionChange(t, prelude, tc.a, tc.b)
		if assert.True(t, ok, "%q -> %q: no change", tc.a, tc.b) {
			assert.Contains(t, c.Reason, tc.reason, "%q -> %q", tc.a, tc.b)
		}
	}
}

// TestDiffPlaceholders: never_true placeholders that gate a rule keep their
// name and do not hide the rest of the condition; excluding one changes
// nothing.
func TestDiffPlaceholders(t *testing.T) {
	const prelude = "- macro: never_true\n  condition: (evt.num=0)\n- macro: consider_x\n  condition: (never_true)\n" +
		"- macro: user_known_x\n  condition: (never_true)\n- macro: spawned\n  condition: evt.type = execve\n"
	tests := []struct{ a, b, change, reason string }{
		{"spawned and consider_x and proc.name = a", "spawned and consider_x and proc.name = b", ChangeConditionChanged, "`proc.name = a` became `proc.name = b`"},
		{"spawned and proc.name = a", "spawned and consider_x and proc.name = a", ChangeConditionNarrowed, "added conjunct `consider_x`"},
		{"spawned and proc.name = a", "spawned and proc.name = a and not user_known_x", ChangeConditionRefactored, "expanded form is the same"},
		{"spawned and consider_x", "spawned and user_known_x", ChangeConditionChanged, "`consider_x` became `user_known_x`"},
	}
	for _, tc := range tests {
		c, ok := conditionChange(t, prelude, tc.a, tc.b)
		if assert.True(t, ok, "%q -> %q: no change", tc.a, tc.b) {
			assert.Equal(t, tc.change, c.Change, "%q -> %q: %s", tc.a, tc.b, c.Reason)
			assert.Contains(t, c.Reason, tc.reason, "%q -> %q", tc.a, tc.b)
		}
	}
}

func TestDiffSnippetShortens(t *testing.T) {
	long := strings.Repeat("é", 300)
	s := snippet(long)
	assert.LessOrEqual(t, len([]rune(s)), snippetLen+10, "snippet of 300 runes: %q", s)
	assert.Contains(t, s, " ... ")
}

// TestDiffCaseSplits needs distribution, (p or q) and r ≡ (p and r) or
// (q and r), for many independent groups: the prover splits on the
// disjunction that matters, so this is linear, not exponential.
func TestDiffCaseSplits(t *testing.T) {
	var a, b []string
	for i := 0; i < 24; i++ {
		a = append(a, fmt.Sprintf("(proc.name = p%d or proc.pname = q%d) and proc.cwd != r%d", i, i, i))
		b = append(b, fmt.Sprintf("((proc.name = p%d and proc.cwd != r%d) or (proc.pname = q%d and proc.cwd != r%d))", i, i, i, i))
	}
	oldCond, newCond := "evt.type = execve and "+strings.Join(a, " and "), "evt.type = execve and "+strings.Join(b, " and ")
	start := time.Now()
	c, _ := conditionChange(t, "", oldCond, newCond)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, ChangeConditionRefactored, c.Change, c.Reason)
	assert.Equal(t, None, c.Bump, c.Reason)

	// With too small a budget the prover gives up and says so.
	defer func(p, s int) { proofBudget, splitBudget = p, s }(proofBudget, splitBudget)
	splitBudget = 5
	c, _ = conditionChange(t, "", oldCond, newCond)
	assert.Equal(t, Major, c.Bump, "small budget: %s: %s", c.Change, c.Reason)
	assert.Contains(t, c.Reason, "too large to decide")
}

func TestDiffMacroComparedWithListsByName(t *testing.T) {
	oldText := "- list: l\n  items: [a]\n- macro: m\n  condition: proc.name in (l)\n" + ruleYAML("R", "evt.type = execve and not m")
	newText := strings.Replace(oldText, "items: [a]", "items: [a, b]", 1)
	rep := compareTexts(t, oldText, newText)
	var got []string
	for _, c := range rep.Changes {
		got = append(got, fmt.Sprintf("%s %s %s %s", c.Kind, c.Name, c.Change, c.Bump))
	}
	assert.Equal(t, []string{"list l items-added patch", "rule R condition-narrowed major"}, got)
}

func TestDiffListItemQuoting(t *testing.T) {
	oldText := "- list: l\n  items: [bash, \"(sd-pam)\"]\n" + ruleYAML("R", "evt.type = execve and proc.name in (l)")
	newText := strings.Replace(oldText, "items: [bash, \"(sd-pam)\"]", "items: ['\"bash\"', '\"(sd-pam)\"']", 1)
	rep := compareTexts(t, oldText, newText)
	assert.Equal(t, None, rep.RequiredBump, "requoted items: %+v", rep)
	if assert.Len(t, rep.Changes, 1, "requoted items") {
		assert.Equal(t, ChangeItemsReordered, rep.Changes[0].Change)
	}
}

func TestDiffMacroEventTypesFromList(t *testing.T) {
	oldText := "- list: l\n  items: [open, openat]\n- macro: m\n  condition: evt.type in (l)\n" + ruleYAML("R", "m and proc.name = x")
	newText := strings.Replace(oldText, "items: [open, openat]", "items: [open]", 1)
	rep := compareTexts(t, oldText, newText)
	want := map[string]Bump{"list l items-removed": Patch, "macro m event-types-changed": Major, "rule R event-types-removed": Major}
	got := map[string]Bump{}
	for _, c := range rep.Changes {
		got[fmt.Sprintf("%s %s %s", c.Kind, c.Name, c.Change)] = c.Bump
	}
	assert.Len(t, rep.Changes, len(want))
	assert.Equal(t, want, got)
}

func TestDiffRenames(t *testing.T) {
	t.Run("ambiguous definitions are not renames", func(t *testing.T) {
		oldText := "- list: a\n  items: [x]\n- list: b\n  items: [x]\n"
		newText := "- list: c\n  items: [x]\n- list: d\n  items: [x]\n"
		for _, c := range compareTexts(t, oldText, newText).Changes {
			assert.NotEqual(t, ChangeRenamed, c.Change, "%+v", c)
		}
	})
	t.Run("empty lists are not renames", func(t *testing.T) {
		for _, c := range compareTexts(t, "- list: a\n  items: []\n", "- list: b\n  items: []\n").Changes {
			assert.NotEqual(t, ChangeRenamed, c.Change, "%+v", c)
		}
	})
	t.Run("renamed macro", func(t *testing.T) {
		oldText := "- macro: m\n  condition: proc.name = x\n" + ruleYAML("R", "evt.type = execve and m")
		newText := "- macro: m2\n  condition: proc.name = x\n" + ruleYAML("R", "evt.type = execve and m2")
		rep := compareTexts(t, oldText, newText)
		require.Len(t, rep.Changes, 2, "%+v", rep.Changes)
		assert.Equal(t, ChangeRenamed, rep.Changes[0].Change)
		assert.Equal(t, "m2", rep.Changes[0].Name)
		assert.Equal(t, ChangeConditionRefactored, rep.Changes[1].Change)
	})
}

func TestDiffRequirements(t *testing.T) {
	rule := ruleYAML("R", "evt.type = execve")
	tests := []struct {
		name, a, b string
		change     string
		bump       Bump
	}{
		{"engine added", "", "- required_engine_version: 0.31.0\n", ChangeAdded, Major},
		{"engine dropped", "- required_engine_version: 0.31.0\n", "", ChangeRemoved, Patch},
		{"integer engine raised", "- required_engine_version: 26\n", "- required_engine_version: 0.31.0\n", ChangeRaised, Major},
		{"alternative becomes main", "- required_plugin_versions:\n  - name: a\n    version: 1.0.0\n    alternatives: [{name: b, version: 1.0.0}]\n",
			"- required_plugin_versions:\n  - name: b\n    version: 1.0.0\n", ChangeAlternativeRemoved, Major},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := compareTexts(t, tc.a+rule, tc.b+rule)
			require.Len(t, rep.Changes, 1, "%+v", rep)
			assert.Equal(t, tc.change, rep.Changes[0].Change)
			assert.Equal(t, tc.bump, rep.Changes[0].Bump)
			assert.Equal(t, tc.bump, rep.RequiredBump)
		})
	}
}

func TestDiffOrder(t *testing.T) {
	a := ruleYAML("A", "evt.type = execve and proc.name = a")
	b := ruleYAML("B", "evt.type = execve and proc.name = b")
	c := ruleYAML("C", "evt.type = open and fd.name = c")
	rep := compareTexts(t, a+b+c, b+a+c)
	assert.Equal(t, Major, rep.RequiredBump, "swapping rules on the same event type: %+v", rep)
	if assert.Len(t, rep.Changes, 1, "swapping rules on the same event type") {
		assert.Equal(t, ChangeOrderChanged, rep.Changes[0].Change)
	}
	rep = compareTexts(t, a+b+c, a+c+b)
	assert.Equal(t, None, rep.RequiredBump, "swapping rules on other event types: %+v", rep)
	if assert.Len(t, rep.Changes, 1, "swapping rules on other event types") {
		assert.Equal(t, ChangeOrderChanged, rep.Changes[0].Change)
		assert.Equal(t, None, rep.Changes[0].Bump)
	}
	disabled := strings.Replace(b, "priority: WARNING\n", "priority: WARNING\n  enabled: false\n", 1)
	rep = compareTexts(t, a+disabled, disabled+a)
	assert.Equal(t, None, rep.RequiredBump, "swapping with a disabled rule: %+v", rep)
}

func TestDiffOutputFields(t *testing.T) {
	got := outputFields("*x %proc.name, %12proc.aname[2] %evt.arg.flags. 100% sure %container.info %")
	assert.Equal(t, []string{"%container.info", "%evt.arg.flags", "%proc.aname[2]", "%proc.name"}, got)
}

func TestDiffBump(t *testing.T) {
	for _, b := range []Bump{None, Patch, Minor, Major} {
		text, err := b.MarshalText()
		require.NoError(t, err)
		var back Bump
		if assert.NoError(t, back.UnmarshalText(text), "%s", b) {
			assert.Equal(t, b, back, "round trip")
		}
	}
	_, err := ParseBump("huge")
	assert.Error(t, err, "ParseBump accepted huge")
	_, err = Bump(7).MarshalText()
	assert.Error(t, err, "Bump(7) marshalled")
	assert.True(t, None < Patch && Patch < Minor && Minor < Major, "bumps are not ordered")
}

func TestDiffRenderers(t *testing.T) {
	rep := Report{RequiredBump: Major, Changes: []Change{
		{Kind: KindRule, Name: "A | B", Change: ChangeConditionNarrowed, Bump: Major, Reason: "added conjunct `proc.name = <NA> | x` to <things>", Line: 7, File: "r.yaml"},
		{Kind: KindList, Name: "l", Change: ChangeItemsAdded, Bump: Patch, Reason: "gained `x`", Line: 2, File: "r.yaml"},
	}}
	var text, md, js bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	wantText := "r.yaml:7: major: rule \"A | B\" condition-narrowed: added conjunct `proc.name = <NA> | x` to <things>\n" +
		"r.yaml:2: patch: list \"l\" items-added: gained `x`\n" +
		"required bump: major (2 changes: 1 major, 1 patch)\n"
	assert.Equal(t, wantText, text.String())
	require.NoError(t, rep.WriteMarkdown(&md))
	assert.Contains(t, md.String(), "🔴 **Required bump: major** (2 changes: 1 major, 1 patch)")
	assert.Contains(t, md.String(), "| 🔴 major | rule | A \\| B | condition-narrowed | added conjunct `proc.name = <NA> \\| x` to &lt;things&gt; | 7 |")
	require.NoError(t, rep.WriteJSON(&js))
	var back struct {
		RequiredBump string `json:"required_bump"`
		Changes      []map[string]any
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, "major", back.RequiredBump, js.String())
	require.Len(t, back.Changes, 2, js.String())
	assert.Equal(t, "major", back.Changes[0]["bump"], js.String())
	assert.Equal(t, float64(7), back.Changes[0]["line"], js.String())
	for _, key := range []string{"kind", "name", "change", "bump", "reason", "line", "file"} {
		assert.Contains(t, back.Changes[0], key, "json change")
	}
	var many Report
	for i := 0; i < MarkdownRows+3; i++ {
		many.Changes = append(many.Changes, Change{Kind: KindList, Name: fmt.Sprint(i), Change: ChangeItemsAdded, Bump: Patch, Reason: "r", Line: 1})
	}
	many.Changes[MarkdownRows+1].Bump = Major
	md.Reset()
	require.NoError(t, many.WriteMarkdown(&md))
	tail := md.String()[len(md.String())-300:]
	assert.Equal(t, MarkdownRows+1, strings.Count(md.String(), "\n| "), "long markdown rows:\n%s", tail)
	assert.Contains(t, md.String(), "| 🔴 major | list | 151 |")
	assert.Contains(t, md.String(), "\n3 more changes not shown")
	var empty bytes.Buffer
	require.NoError(t, (Report{}).WriteJSON(&empty))
	assert.Contains(t, empty.String(), `"changes": []`)
	empty.Reset()
	require.NoError(t, (Report{}).WriteMarkdown(&empty))
	assert.Contains(t, empty.String(), "No semantic changes.")
}

func TestDiffMarkdownEscape(t *testing.T) {
	tests := map[string]string{
		"a|b":         `a\|b`,
		"<NA>":        "&lt;NA&gt;",
		"`<NA>` <x>":  "`<NA>` &lt;x&gt;",
		"`a | b`":     "`a \\| b`",
		"odd ` <x>":   "odd ` &lt;x&gt;",
		"line\nbreak": "line break",
	}
	for in, want := range tests {
		assert.Equal(t, want, mdEscape(in), "mdEscape(%q)", in)
	}
}

func TestDiffEmptyAndIdentical(t *testing.T) {
	text := "- required_engine_version: 0.31.0\n- list: l\n  items: [a]\n- macro: m\n  condition: proc.name in (l)\n" + ruleYAML("R", "evt.type = execve and m")
	rep := compareTexts(t, text, text)
	assert.Equal(t, None, rep.RequiredBump, "identical files")
	assert.NotNil(t, rep.Changes, "identical files")
	assert.Empty(t, rep.Changes, "identical files")
	rs := rules.LoadBytes("empty.yaml", nil, rules.Options{})
	rep = Compare(rs, rs)
	assert.Equal(t, None, rep.RequiredBump, "empty files")
	assert.Empty(t, rep.Changes, "empty files")
}
