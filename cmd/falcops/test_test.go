package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/falcops/falcops/internal/sharedtest"
)

// writeRuleset creates rulesets/<name> below root with a manifest, one rules
// file and the given test files.
func writeRuleset(t *testing.T, root, name, manifestExtra, rulesYAML string, tests map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, "rulesets", name)
	must(t, os.MkdirAll(filepath.Join(dir, "tests"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "ruleset.yaml"),
		[]byte("name: "+name+"\nversion: 1.0.0\nfiles: [rules.yaml]\n"+manifestExtra), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(rulesYAML), 0o644))
	for n, body := range tests {
		must(t, os.WriteFile(filepath.Join(dir, "tests", n), []byte(body), 0o644))
	}
	return dir
}

const cmdTestRules = `- required_engine_version: 0.31.0
- rule: Shell
  desc: a shell ran
  condition: evt.type = execve and proc.name in (bash, sh)
  exceptions:
    - name: parents
      fields: [proc.pname]
      comps: [in]
      values: [[sshd]]
  output: shell %proc.name
  priority: WARNING
- rule: Open
  desc: a file was opened
  condition: evt.type = openat and fd.name startswith /etc/
  output: open %fd.name
  priority: INFO
`

const cmdTestCases = `- name: shell fires
  event: {evt.type: execve, proc.name: bash, proc.pname: python}
  fires: [Shell]
- name: shell from sshd is excepted
  event: {evt.type: execve, proc.name: bash, proc.pname: sshd}
  not_fires: [Shell]
- name: open fires
  event: {evt.type: openat, fd.name: /etc/passwd}
  fires: [Open]
`

var summaryLine = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCmdTestRepositoryRulesets(t *testing.T) {
	sharedtest.UpstreamRulesets(t) // the tuning rulesets depend on upstream's
	code, out, errOut := runCLI(t, "test", "--strict", "../..")
	if code != exitOK {
		t.Fatalf("the repository's rule tests must pass with --strict: exit %d\n%s%s", code, out, errOut)
	}
	m := summaryLine.FindStringSubmatch(lastLine(out))
	if m == nil || m[2] != "0" || m[1] == "0" {
		t.Fatalf("want a last line 'N passed, 0 failed':\n%s", out)
	}
	for _, want := range []string{"ruleset heartbeat:", "ruleset custom-example:"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestCmdTestPassAndCoverage(t *testing.T) {
	root := t.TempDir()
	writeRuleset(t, root, "demo", "", cmdTestRules, map[string]string{"cases.yaml": cmdTestCases})
	code, out, _ := runCLI(t, "test", root)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// Open has no non-firing case: a warning naming the rule's position
	wantWarn := filepath.Join(root, "rulesets", "demo", "rules.yaml") + ":12:3: warning: rule 'Open' has no non-firing case (not_fires) [FALCOPS_TEST_COVERAGE]"
	if !strings.Contains(out, wantWarn) {
		t.Errorf("missing %q in:\n%s", wantWarn, out)
	}
	if lastLine(out) != "3 passed, 0 failed" {
		t.Errorf("summary: %q", lastLine(out))
	}
	// --strict turns the coverage gap into a failure
	if code, out, _ := runCLI(t, "test", "--strict", root); code != exitInput || !strings.Contains(out, "error: rule 'Open' has no non-firing case") {
		t.Errorf("--strict: exit %d\n%s", code, out)
	}
	// -v lists passing cases; --run filters them
	_, out, _ = runCLI(t, "test", "-v", "--run", "^shell", root)
	if !strings.Contains(out, "ok: case 'shell fires' (fired: 'Shell')") || strings.Contains(out, "open fires") || lastLine(out) != "2 passed, 0 failed" {
		t.Errorf("-v --run:\n%s", out)
	}
}

func TestCmdTestFailures(t *testing.T) {
	root := t.TempDir()
	dir := writeRuleset(t, root, "demo", "", cmdTestRules, map[string]string{
		"a.yaml": cmdTestCases + `- name: wrong expectation
  event: {evt.type: execve, proc.name: sh, proc.pname: sshd}
  fires: [Shell]
- name: unknown rule
  event: {evt.type: execve}
  not_fires: [Shel]
- name: bad field
  event:
    evt.type: execve
    proc.nmae: bash
  fires: [Shell]
`,
		"b.yaml": "- name: [broken\n",
	})
	code, out, _ := runCLI(t, "test", dir)
	if code != exitInput {
		t.Fatalf("exit %d, want %d:\n%s", code, exitInput, out)
	}
	a := filepath.Join(dir, "tests", "a.yaml")
	for _, want := range []string{
		a + `:10:3: error: case 'wrong expectation': rule 'Shell': expected to fire, but "not proc.pname in (sshd)" was false: proc.pname is "sshd" (fired: none) [FALCOPS_TEST_FAILED]`,
		a + ":15:15: error: case 'unknown rule': rule 'Shel': no rule by that name [FALCOPS_TEST_INVALID]",
		a + ":19:5: error: case 'bad field': unknown field 'proc.nmae' for source 'syscall' [FALCOPS_TEST_INVALID]",
		// a parser error names the line where libyaml gave up, as falcops validate reports it
		filepath.Join(dir, "tests", "b.yaml") + ":2:1: error: invalid YAML: did not find expected ',' or ']' [FALCOPS_TEST_INVALID]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// three passing cases; three failing ones and the unreadable file
	if lastLine(out) != "3 passed, 4 failed" {
		t.Errorf("summary %q", lastLine(out))
	}
}

func TestCmdTestDependsOn(t *testing.T) {
	root := t.TempDir()
	writeRuleset(t, root, "base", "", cmdTestRules, map[string]string{"cases.yaml": cmdTestCases})
	// an exceptions ruleset tunes base and tests the tuning on base's rules
	tuning := writeRuleset(t, root, "tuning", "dependsOn: [{name: base, major: 1}]\n", `- required_engine_version: 0.31.0
- rule: Shell
  exceptions:
    - name: parents
      values: [[cron]]
  override:
    exceptions: append
`, map[string]string{"t.yaml": `- name: shell from cron is excepted by the tuning
  event: {evt.type: execve, proc.name: sh, proc.pname: cron}
  not_fires: [Shell]
- name: shell from python still fires
  event: {evt.type: execve, proc.name: sh, proc.pname: python}
  fires: [Shell]
`})
	code, out, _ := runCLI(t, "test", "--strict", tuning)
	if code != exitOK || lastLine(out) != "2 passed, 0 failed" {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	// without the tuning, base does not except cron
	code, out, _ = runCLI(t, "test", root)
	if code != exitOK || !strings.Contains(out, "ruleset base:") || !strings.Contains(out, "ruleset tuning:") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestCmdTestUsage(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "rules.yaml")
	must(t, os.WriteFile(loose, []byte(cmdTestRules), 0o644))
	for _, args := range [][]string{
		{"test", filepath.Join(dir, "missing")},
		{"test", loose},
		{"test", "--no-such-flag"},
		{"test", "--run", "(", dir},
		{"test", "--engine-version", "x", dir},
	} {
		if code, out, errOut := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s%s", args, code, exitUsage, out, errOut)
		}
	}
}

func TestCmdTestRuleCannotBeEvaluated(t *testing.T) {
	root := t.TempDir()
	dir := writeRuleset(t, root, "demo", "", `- required_engine_version: 0.31.0
- rule: Bytes
  desc: bcontains on a string field, which libsinsp refuses
  condition: evt.type = execve and proc.name bcontains 41
  output: o %proc.name
  priority: INFO
`, map[string]string{"t.yaml": `- name: names the rule
  event: {evt.type: execve, proc.name: A}
  fires: [Bytes]
`})
	code, out, _ := runCLI(t, "test", dir)
	rulesFile := filepath.Join(dir, "rules.yaml")
	for _, want := range []string{
		rulesFile + ":2:3: warning: rule 'Bytes': condition cannot be evaluated: filter error: 'bcontains' operator not supported for string filters [FALCOPS_TEST_EVAL]",
		"error: case 'names the rule': rule 'Bytes': condition cannot be evaluated",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if code != exitInput || lastLine(out) != "0 passed, 1 failed" {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
