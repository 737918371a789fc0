package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

const goodRule = "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o %proc.name\n  priority: INFO\n"

// TestValidateMissingPath: a path that does not exist is a LOAD_ERR_FILE_READ
// finding at that path (exit 1, as docs/rule-maintainers.md says); the
// other paths are still validated and reported.
func TestValidateMissingPath(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	must(t, os.WriteFile(good, []byte(goodRule), 0o644))
	missing := filepath.Join(dir, "missing.yaml")

	code, out, errOut := runCLI(t, "validate", missing, good)
	require.Equal(t, exitInput, code, out+errOut)
	assert.Contains(t, out, missing+": error: no such file or directory [LOAD_ERR_FILE_READ]\n")
	assert.Contains(t, out, "ruleset good: 1 file, 1 rule, 0 macros, 0 lists")
	assert.Contains(t, out, "1 ruleset: 1 error, 0 warnings\n")
	assert.Empty(t, errOut)

	code, out, _ = runCLI(t, "validate", missing, good, "-o", "json")
	require.Equal(t, exitInput, code)
	var doc struct {
		Rulesets []struct{ Name string }
		Findings []struct{ Code, File string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Rulesets, 1)
	assert.Equal(t, "good", doc.Rulesets[0].Name)
	require.Len(t, doc.Findings, 1)
	assert.Equal(t, "LOAD_ERR_FILE_READ", doc.Findings[0].Code)
	assert.Equal(t, missing, doc.Findings[0].File)

	_, out, _ = runCLI(t, "validate", missing, "-o", "github")
	assert.Equal(t, "::error file="+ghProperty(missing)+",title=LOAD_ERR_FILE_READ::no such file or directory\n", out, "no line for a path")
}

// TestValidateEmptyFolder: a folder without rules is reported by its path,
// not as a position in a file (".:1:1").
func TestValidateEmptyFolder(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "rulesets", "empty")
	must(t, os.MkdirAll(empty, 0o755))
	code, out, _ := runCLI(t, "validate", empty)
	assert.Equal(t, exitInput, code)
	assert.True(t, strings.HasPrefix(out, empty+": error: no rules files: expected a rules file"), out)

	t.Chdir(empty)
	code, out, _ = runCLI(t, "validate", ".")
	assert.Equal(t, exitInput, code)
	assert.NotContains(t, out, ".:1:1")
	real, err := filepath.EvalSymlinks(empty)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, real+": error: no rules files"), out)
}

// TestValidatePlurals: summaries say "1 file", "1 rule", "1 error", "1 warning".
func TestValidatePlurals(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "one.yaml")
	must(t, os.WriteFile(f, []byte("- list: unused\n  items: [a]\n- rule: r\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: INFO\n"), 0o644))
	_, out, _ := runCLI(t, "validate", f)
	assert.Contains(t, out, "ruleset one: 1 file, 1 rule, 0 macros, 1 list (engine ")
	assert.True(t, strings.HasSuffix(out, "\n1 ruleset: 1 error, 1 warning\n"), out)
}

// TestValidateAndTestFromASubfolder: without a path, validate and test
// work on the repository root, from any folder of the repository, as the
// other commands do; a ruleset name is looked up in the repository.
func TestValidateAndTestFromASubfolder(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	for _, name := range []string{"heartbeat", "custom-example"} {
		sharedtest.CopyDir(t, filepath.Join("..", "..", "rulesets", name), filepath.Join(dir, "rulesets", name))
	}
	t.Chdir(filepath.Join(dir, "rulesets", "heartbeat"))

	code, out, errOut := runCLI(t, "validate", "--strict")
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "ruleset custom-example 0.1.0:")
	assert.Contains(t, out, "ruleset heartbeat 2.0.0:")
	assert.Contains(t, out, "2 rulesets: 0 errors, 0 warnings")

	code, out, errOut = runCLI(t, "test", "--strict")
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "ruleset custom-example:")
	assert.Contains(t, out, "ruleset heartbeat:")

	t.Chdir(filepath.Join(dir, "rulesets", "custom-example"))
	code, out, errOut = runCLI(t, "test", "heartbeat")
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "ruleset heartbeat:")
	assert.NotContains(t, out, "ruleset custom-example:")
}

// symlinkRuleset is a ruleset folder whose rules.yaml is a symlink to target.
func symlinkRuleset(t *testing.T, target string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "linked")
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "ruleset.yaml"), []byte("name: linked\nversion: 1.0.0\nfiles: [rules.yaml]\nrequires: {engine: 0.31.0}\n"), 0o644))
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
	}
	must(t, os.Symlink(target, filepath.Join(dir, "rules.yaml")))
	return dir
}

// TestSymlinkOutsideRulesetIsRefused: a rules file that is a symlink to a
// file outside its ruleset folder is refused by validate and package, with
// an error naming the file; a symlink inside the folder is fine.
func TestSymlinkOutsideRulesetIsRefused(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	must(t, os.WriteFile(outside, []byte(goodRule), 0o644))
	dir := symlinkRuleset(t, outside)
	realOutside, err := filepath.EvalSymlinks(outside)
	require.NoError(t, err)
	want := `error: file "rules.yaml": is a symlink to ` + realOutside + ", outside the ruleset folder " + dir

	code, out, errOut := runCLI(t, "validate", dir)
	assert.Equal(t, exitInput, code, out+errOut)
	assert.Contains(t, out, filepath.Join(dir, "ruleset.yaml")+":3:8: "+want)

	layout := filepath.Join(t.TempDir(), "layout")
	code, out, errOut = runCLI(t, "package", dir, "--out", layout)
	assert.Equal(t, exitInput, code, out+errOut)
	assert.Contains(t, errOut, want)
	assert.NoDirExists(t, layout, "nothing is packaged")

	inside := symlinkRuleset(t, filepath.Join("real", "rules.yaml"))
	must(t, os.MkdirAll(filepath.Join(inside, "real"), 0o755))
	must(t, os.WriteFile(filepath.Join(inside, "real", "rules.yaml"), []byte(goodRule), 0o644))
	code, out, errOut = runCLI(t, "validate", "--strict", inside)
	assert.Equal(t, exitOK, code, out+errOut)
	code, out, errOut = runCLI(t, "package", inside, "--out", layout)
	assert.Equal(t, exitOK, code, out+errOut)
	assert.FileExists(t, filepath.Join(layout, "index.json"))
}
