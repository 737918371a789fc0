package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcops/falcops/internal/sharedtest"
)

// diffBase is the shared fixture: a list, a macro and two rules.
var diffBase = sharedtest.Fixture("shell_rules.yaml")

// writeDiffFile writes a rules file into dir and returns its path.
func writeDiffFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiffCLIFormats(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeDiffFile(t, dir, "old.yaml", diffBase)
	newPath := writeDiffFile(t, dir, "new.yaml", strings.Replace(diffBase,
		"spawned_process and proc.name in (shell_binaries)", "spawned_process and proc.name in (shell_binaries) and proc.tty != 0", 1))

	code, out, errOut := runCLI(t, "diff", oldPath, newPath)
	if code != exitOK || errOut != "" {
		t.Fatalf("text: exit %d, stderr %q", code, errOut)
	}
	wantLine := newPath + ":8: major: rule \"Shell spawned\" condition-narrowed: the rule matches fewer events: added conjunct `proc.tty != 0`\n"
	if !strings.Contains(out, wantLine) || !strings.HasSuffix(out, "required bump: major (1 change: 1 major)\n") {
		t.Errorf("text output:\n%s\nwant the line\n%s", out, wantLine)
	}

	code, out, _ = runCLI(t, "diff", oldPath, newPath, "-o", "json")
	if code != exitOK {
		t.Fatalf("json: exit %d", code)
	}
	var rep struct {
		RequiredBump string           `json:"required_bump"`
		Changes      []map[string]any `json:"changes"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("json output %q: %v", out, err)
	}
	if rep.RequiredBump != "major" || len(rep.Changes) != 1 {
		t.Fatalf("json: %s", out)
	}
	c := rep.Changes[0]
	if c["kind"] != "rule" || c["name"] != "Shell spawned" || c["change"] != "condition-narrowed" || c["bump"] != "major" ||
		c["line"] != float64(8) || !strings.Contains(c["reason"].(string), "proc.tty != 0") {
		t.Errorf("json change: %v", c)
	}

	code, out, _ = runCLI(t, "diff", oldPath, newPath, "-o", "markdown")
	if code != exitOK || !strings.HasPrefix(out, "🔴 **Required bump: major** (1 change: 1 major)\n") ||
		!strings.Contains(out, "| 🔴 major | rule | Shell spawned | condition-narrowed |") {
		t.Errorf("markdown: exit %d\n%s", code, out)
	}
}

func TestDiffCLIIdenticalAndFormattingOnly(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeDiffFile(t, dir, "old.yaml", diffBase)
	newPath := writeDiffFile(t, dir, "new.yaml", "# reformatted\n"+strings.Replace(diffBase, "items: [bash, sh]", "items:\n    - bash\n    - sh", 1))
	code, out, _ := runCLI(t, "diff", oldPath, newPath, "-o", "json")
	if code != exitOK || !strings.Contains(out, `"required_bump": "none"`) || !strings.Contains(out, `"changes": []`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDiffCLIRulesetFolders(t *testing.T) {
	dir := t.TempDir()
	for _, side := range []string{"old", "new"} {
		writeDiffFile(t, dir, side+"/shells/ruleset.yaml", "name: shells\nversion: 1.0.0\nfiles: [base.yaml, tuning.yaml]\n")
		writeDiffFile(t, dir, side+"/shells/base.yaml", diffBase)
	}
	writeDiffFile(t, dir, "old/shells/tuning.yaml", "- list: shell_binaries\n  items: [zsh]\n  override:\n    items: append\n")
	writeDiffFile(t, dir, "new/shells/tuning.yaml", "- list: shell_binaries\n  items: [zsh, fish]\n  override:\n    items: append\n")
	code, out, errOut := runCLI(t, "diff", filepath.Join(dir, "old/shells"), filepath.Join(dir, "new/shells"))
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		`patch: list "shell_binaries" items-added: gained ` + "`fish`",
		`patch: rule "Shell spawned" condition-widened`,
		"required bump: patch (2 changes: 2 patch)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDiffCLIValidationErrors(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeDiffFile(t, dir, "old.yaml", diffBase)
	newPath := writeDiffFile(t, dir, "new.yaml", strings.Replace(diffBase, "proc.name in (shell_binaries)", "proc.nme in (shell_binaries)", 1))
	code, out, errOut := runCLI(t, "diff", oldPath, newPath)
	if code != exitInput {
		t.Fatalf("exit %d, want %d", code, exitInput)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
	if !strings.Contains(errOut, newPath+":8:") || !strings.Contains(errOut, "error: unknown field 'proc.nme'") ||
		!strings.Contains(errOut, "cannot diff: 0 errors in "+oldPath+", 1 in "+newPath) {
		t.Errorf("stderr:\n%s", errOut)
	}
	// errors on the old side count too
	if code, _, _ := runCLI(t, "diff", newPath, oldPath); code != exitInput {
		t.Errorf("old side with errors: exit %d, want %d", code, exitInput)
	}
}

func TestDiffCLIUsage(t *testing.T) {
	dir := t.TempDir()
	p := writeDiffFile(t, dir, "r.yaml", diffBase)
	writeDiffFile(t, dir, "repo/rulesets/a/ruleset.yaml", "name: a\nversion: 1.0.0\nfiles: [r.yaml]\n")
	writeDiffFile(t, dir, "repo/rulesets/a/r.yaml", diffBase)
	writeDiffFile(t, dir, "repo/rulesets/b/ruleset.yaml", "name: b\nversion: 1.0.0\nfiles: [r.yaml]\n")
	writeDiffFile(t, dir, "repo/rulesets/b/r.yaml", diffBase)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"one argument", []string{"diff", p}, "diff needs OLD and NEW"},
		{"three arguments", []string{"diff", p, p, p}, "diff needs OLD and NEW"},
		{"unknown format", []string{"diff", p, p, "-o", "sarif"}, `-o "sarif"`},
		{"missing file", []string{"diff", p, filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"several rulesets", []string{"diff", filepath.Join(dir, "repo"), p}, "holds 2 rulesets"},
		{"unknown flag", []string{"diff", p, p, "--frobnicate"}, "unknown flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.msg)
			}
		})
	}
}
