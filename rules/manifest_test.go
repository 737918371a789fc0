package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falcops/falcops/diag"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const baseRules = `- list: shells
  items: [bash, sh]
- rule: Shell spawned
  desc: a shell
  condition: evt.type = execve and proc.name in (shells)
  output: shell %proc.name
  priority: WARNING
`

func TestRulesetLoadOrderAndDependsOn(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"rulesets/base/ruleset.yaml":    "name: base\nversion: 1.2.0\nfiles: [base_rules.yaml]\n",
		"rulesets/base/base_rules.yaml": baseRules,
		"rulesets/tuning/ruleset.yaml":  "name: tuning\nversion: 0.1.0\nfiles: [a.yaml, b.yaml]\ndependsOn:\n  - name: base\n    major: 1\n",
		// a.yaml appends to base's list; b.yaml appends to a.yaml's macro: both need the order.
		"rulesets/tuning/a.yaml": "- list: shells\n  items: [zsh]\n  override:\n    items: append\n- macro: trusted\n  condition: proc.pname = init\n",
		"rulesets/tuning/b.yaml": "- macro: trusted\n  condition: or proc.pname = systemd\n  override:\n    condition: append\n" +
			"- rule: Shell spawned\n  condition: and not trusted\n  override:\n    condition: append\n",
	})
	dirs, fs := Discover(root)
	if fs.Errors() > 0 || len(dirs) != 2 {
		t.Fatalf("discover: %v %v", dirs, fs)
	}
	var tuning *RulesetDir
	for _, d := range dirs {
		if d.Manifest.Name == "tuning" {
			tuning = d
		}
	}
	rs, fs := LoadRuleset(tuning, Options{})
	if len(fs) != 0 {
		t.Fatalf("unexpected findings: %v", fs)
	}
	if got := strings.Join(rs.List("shells").Items, ","); got != "bash,sh,zsh" {
		t.Errorf("list items %q", got)
	}
	if got := rs.Rule("Shell spawned").Condition.Value; !strings.HasSuffix(got, "and not trusted") {
		t.Errorf("condition %q", got)
	}
	// Loaded alone, tuning's appends have nothing to append to.
	alone := *tuning
	alone.Manifest.DependsOn = nil
	_, fs = LoadRuleset(&alone, Options{})
	if fs.Errors() == 0 || !strings.Contains(fs[0].Message, "no list by that name") || fs[0].File != filepath.Join(tuning.Dir, "a.yaml") {
		t.Errorf("want an append error in a.yaml, got %v", fs)
	}
}

func TestManifestErrors(t *testing.T) {
	cases := []struct {
		name, manifest, want string
		pos                  diag.Position
	}{
		{"bad name", "name: Bad_Name\nversion: 1.0.0\nfiles: [r.yaml]\n", "must match", diag.Position{Line: 1, Column: 7}},
		{"bad version", "name: ok\nversion: 1.0\nfiles: [r.yaml]\n", "not a semantic version", diag.Position{Line: 2, Column: 10}},
		{"no files", "name: ok\nversion: 1.0.0\n", "files must list", diag.Position{Line: 1, Column: 1}},
		{"escaping file", "name: ok\nversion: 1.0.0\nfiles: [../r.yaml]\n", "inside the ruleset folder", diag.Position{Line: 3, Column: 8}},
		{"missing file", "name: ok\nversion: 1.0.0\nfiles: [nope.yaml]\n", "nope.yaml", diag.Position{Line: 3, Column: 8}},
		{"unknown key", "name: ok\nversion: 1.0.0\nfiles: [r.yaml]\nfilez: []\n", "filez", diag.Position{Line: 4, Column: 1}},
		{"bad engine", "name: ok\nversion: 1.0.0\nfiles: [r.yaml]\nrequires:\n  engine: 31\n", "requires.engine", diag.Position{Line: 5, Column: 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"ruleset.yaml": c.manifest, "r.yaml": baseRules})
			_, fs := ReadManifest(dir)
			if fs.Errors() != 1 {
				t.Fatalf("want one error, got %v", fs)
			}
			f := fs[0]
			if !strings.Contains(f.Message, c.want) || f.Line != c.pos.Line || f.Column != c.pos.Column || f.File != filepath.Join(dir, ManifestFile) {
				t.Errorf("got %v, want %q at %v", f, c.want, c.pos)
			}
		})
	}
}

func TestDiscoverLooseFileAndNothing(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"x_rules.yaml": baseRules})
	dirs, fs := Discover(filepath.Join(dir, "x_rules.yaml"))
	if len(fs) != 0 || len(dirs) != 1 || dirs[0].Manifest.Name != "x_rules" {
		t.Fatalf("loose file: %v %v", dirs, fs)
	}
	if _, fs := Discover(t.TempDir()); fs.Errors() != 1 || !strings.Contains(fs[0].Message, "no ruleset found") {
		t.Fatalf("empty folder: %v", fs)
	}
}
