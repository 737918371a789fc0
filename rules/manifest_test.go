package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/internal/sharedtest"
)

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
	sharedtest.WriteFiles(t, root, map[string]string{
		"rulesets/base/ruleset.yaml":    "name: base\nversion: 1.2.0\nfiles: [base_rules.yaml]\n",
		"rulesets/base/base_rules.yaml": baseRules,
		"rulesets/tuning/ruleset.yaml":  "name: tuning\nversion: 0.1.0\nfiles: [a.yaml, b.yaml]\ndependsOn:\n  - name: base\n    major: 1\n",
		// a.yaml appends to base's list; b.yaml appends to a.yaml's macro: both need the order.
		"rulesets/tuning/a.yaml": "- list: shells\n  items: [zsh]\n  override:\n    items: append\n- macro: trusted\n  condition: proc.pname = init\n",
		"rulesets/tuning/b.yaml": "- macro: trusted\n  condition: or proc.pname = systemd\n  override:\n    condition: append\n" +
			"- rule: Shell spawned\n  condition: and not trusted\n  override:\n    condition: append\n",
	})
	dirs, fs := Discover(root)
	require.Zero(t, fs.Errors(), "discover: %v", fs)
	require.Len(t, dirs, 2, "discover")
	var tuning *RulesetDir
	for _, d := range dirs {
		if d.Manifest.Name == "tuning" {
			tuning = d
		}
	}
	require.NotNil(t, tuning)
	rs, fs := LoadRuleset(tuning, Options{})
	require.Empty(t, fs, "findings")
	assert.Equal(t, []string{"bash", "sh", "zsh"}, rs.List("shells").Items)
	assert.True(t, strings.HasSuffix(rs.Rule("Shell spawned").Condition.Value, "and not trusted"), "condition %q", rs.Rule("Shell spawned").Condition.Value)
	// Loaded alone, tuning's appends have nothing to append to.
	alone := *tuning
	alone.Manifest.DependsOn = nil
	_, fs = LoadRuleset(&alone, Options{})
	require.NotZero(t, fs.Errors(), "want an append error in a.yaml")
	assert.Contains(t, fs[0].Message, "no list by that name")
	assert.Equal(t, filepath.Join(tuning.Dir, "a.yaml"), fs[0].File)
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
			sharedtest.WriteFiles(t, dir, map[string]string{"ruleset.yaml": c.manifest, "r.yaml": baseRules})
			_, fs := ReadManifest(dir)
			require.Equal(t, 1, fs.Errors(), "want one error, got %v", fs)
			f := fs[0]
			assert.Contains(t, f.Message, c.want)
			assert.Equal(t, diag.At(filepath.Join(dir, ManifestFile), c.pos.Line, c.pos.Column), f.Position)
		})
	}
}

func TestDiscoverLooseFileAndNothing(t *testing.T) {
	dir := t.TempDir()
	sharedtest.WriteFiles(t, dir, map[string]string{"x_rules.yaml": baseRules})
	dirs, fs := Discover(filepath.Join(dir, "x_rules.yaml"))
	require.Empty(t, fs, "loose file")
	require.Len(t, dirs, 1, "loose file")
	assert.Equal(t, "x_rules", dirs[0].Manifest.Name)
	empty := t.TempDir()
	_, fs = Discover(empty)
	require.Equal(t, 1, fs.Errors(), "empty folder: %v", fs)
	assert.Contains(t, fs[0].Message, "no rules files")
	assert.Equal(t, empty+": error: "+fs[0].Message+" [FALCOPS_MANIFEST]", fs[0].String(), "named by its path, no line")
	_, fs = Discover(filepath.Join(dir, "missing"))
	require.Len(t, fs, 1)
	assert.Equal(t, filepath.Join(dir, "missing")+": error: no such file or directory [LOAD_ERR_FILE_READ]", fs[0].String())
}

// TestManifestSymlinks: a rules file that resolves outside the ruleset
// folder is refused; one inside it is fine.
func TestManifestSymlinks(t *testing.T) {
	outside := sharedtest.WriteFiles(t, t.TempDir(), map[string]string{"x.yaml": baseRules})
	dir := sharedtest.WriteFiles(t, t.TempDir(), map[string]string{
		"ruleset.yaml":  "name: s\nversion: 1.0.0\nfiles: [out.yaml, in.yaml]\n",
		"sub/real.yaml": baseRules,
	})
	require.NoError(t, os.Symlink(filepath.Join(outside, "x.yaml"), filepath.Join(dir, "out.yaml")))
	require.NoError(t, os.Symlink(filepath.Join("sub", "real.yaml"), filepath.Join(dir, "in.yaml")))
	rd, fs := ReadManifest(dir)
	require.Len(t, fs, 1, "%v", fs)
	assert.Contains(t, fs[0].Message, `file "out.yaml": is a symlink to `)
	assert.Equal(t, []string{filepath.Join(dir, "in.yaml")}, rd.Paths)
}
