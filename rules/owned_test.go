package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules"
)

const upstreamRules = `
- rule: Shell
  desc: a shell
  condition: evt.type = execve and proc.name = bash
  output: shell %proc.name
  priority: WARNING
`

const tuningRules = `
- rule: Shell
  exceptions:
    - name: allowed_parent
      fields: [proc.pname]
      comps: [=]
      values: [[sshd]]
  override:
    exceptions: append
`

func tuningManifest(expires string) string {
	return `
name: tuning
version: 1.0.0
files: [tuning.yaml]
dependsOn:
  - {name: upstream, major: 2}
exceptions:
  - rule: Shell
    name: allowed_parent
    owner: team@example.com
    reason: sshd starts shells
    expires: "` + expires + `"
`
}

// repo writes an upstream ruleset (in folder "vendored-2", so it is found by
// name and major, not by folder name) and a tuning ruleset beside it.
func repo(t *testing.T, manifest, tuning string) *rules.RulesetDir {
	t.Helper()
	root := t.TempDir()
	sharedtest.WriteFiles(t, root, map[string]string{
		"vendored-2/ruleset.yaml": "name: upstream\nversion: 2.3.0\nfiles: [u.yaml]\n",
		"vendored-2/u.yaml":       upstreamRules,
		"tuning/ruleset.yaml":     manifest,
		"tuning/tuning.yaml":      tuning,
	})
	rd, fs := rules.ReadManifest(filepath.Join(root, "tuning"))
	require.Zero(t, fs.Errors(), "%v", fs)
	return rd
}

func codes(t *testing.T, rd *rules.RulesetDir, now time.Time) []string {
	t.Helper()
	_, fs := rules.LoadRuleset(rd, rules.Options{Now: now})
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Severity)+" "+f.Code+" "+filepath.Base(f.File)+":"+f.Position.String()[strings.LastIndex(f.Position.String(), ".yaml:")+6:])
	}
	return out
}

// TestOwnedExceptionsExpire: an owned exception is fine until 30 days
// before its day, warned about then, and an error after its day.
func TestOwnedExceptionsExpire(t *testing.T) {
	rd := repo(t, tuningManifest("2027-01-31"), tuningRules)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d.Add(12 * time.Hour) }
	assert.Empty(t, codes(t, rd, day("2026-12-31")))
	assert.Equal(t, []string{"warning FALCOPS_EXCEPTION_EXPIRING ruleset.yaml:7:5"}, codes(t, rd, day("2027-01-02")))
	assert.Equal(t, []string{"warning FALCOPS_EXCEPTION_EXPIRING ruleset.yaml:7:5"}, codes(t, rd, day("2027-01-31")), "valid through its day")
	assert.Equal(t, []string{"error FALCOPS_EXCEPTION_EXPIRED ruleset.yaml:7:5"}, codes(t, rd, day("2027-02-01")))
	assert.Empty(t, codes(t, rd, time.Time{}), "no clock, no expiry")
}

// TestOwnedExceptionsNeedOwners: an exception added to another ruleset's
// rule needs an entry, and an entry needs its exception.
func TestOwnedExceptionsNeedOwners(t *testing.T) {
	unowned := repo(t, "name: tuning\nversion: 1.0.0\nfiles: [tuning.yaml]\ndependsOn: [{name: upstream, major: 2}]\n", tuningRules)
	assert.Equal(t, []string{"error FALCOPS_EXCEPTION_OWNER tuning.yaml:3:7"}, codes(t, unowned, time.Time{}))
	orphan := repo(t, tuningManifest("2027-01-31"), "[]\n")
	assert.Equal(t, []string{"error FALCOPS_EXCEPTION_OWNER ruleset.yaml:7:5"}, codes(t, orphan, time.Time{}))

	_, fs := rules.ReadManifest(writeManifest(t, "name: t\nversion: 1.0.0\nfiles: [t.yaml]\nexceptions:\n  - {rule: R, name: n, expires: tomorrow}\n"))
	require.Len(t, fs, 2, "%v", fs)
	assert.Contains(t, fs[0].Message, "owner and reason are required")
	assert.Contains(t, fs[1].Message, `expires "tomorrow" is not a date (YYYY-MM-DD)`)
}

func writeManifest(t *testing.T, manifest string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ruleset.yaml"), []byte(manifest), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.yaml"), []byte("[]\n"), 0o644))
	return dir
}

// TestDependencyByNameAndMajor: dependsOn finds the folder whose manifest
// has the name and major, whatever the folder is called; another major,
// or none, is an error naming the fix; two folders of one line are an
// error.
func TestDependencyByNameAndMajor(t *testing.T) {
	rd := repo(t, tuningManifest("2099-01-31"), tuningRules)
	dep, err := rules.FindDependency(rd, rules.Dependency{Name: "upstream", Major: 2})
	require.NoError(t, err)
	assert.Equal(t, "vendored-2", filepath.Base(dep.Dir))

	_, err = rules.FindDependency(rd, rules.Dependency{Name: "upstream", Major: 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dependency upstream 3 is neither in this repository")
	assert.Contains(t, err.Error(), "falcops vendor upstream X.Y.Z")

	// The search path is looked at after the repository.
	elsewhere := t.TempDir()
	sharedtest.WriteFiles(t, elsewhere, map[string]string{"u3/ruleset.yaml": "name: upstream\nversion: 3.0.0\nfiles: [u.yaml]\n", "u3/u.yaml": upstreamRules})
	t.Setenv(rules.RulesetsPathEnv, elsewhere)
	dep, err = rules.FindDependency(rd, rules.Dependency{Name: "upstream", Major: 3})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(elsewhere, "u3"), dep.Dir)

	sharedtest.WriteFiles(t, filepath.Dir(rd.Dir), map[string]string{"copy/ruleset.yaml": "name: upstream\nversion: 2.0.0\nfiles: [u.yaml]\n", "copy/u.yaml": upstreamRules})
	_, err = rules.FindDependency(rd, rules.Dependency{Name: "upstream", Major: 2})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keep one folder per major line")
}
