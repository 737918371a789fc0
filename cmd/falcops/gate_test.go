package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

// TestGateCLI runs `falcops gate` in a repository made with the git CLI, as
// a maintainer's clone is, and checks its exit codes and formats (package
// gate covers the verdicts on go-git repositories, shallow clones included).
func TestGateCLI(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitRun("init", "-q", "-b", "main")
	sharedtest.CopyDir(t, filepath.Join("..", "..", "rulesets", "heartbeat"), filepath.Join(dir, "rulesets", "heartbeat"))
	gitRun("add", "-A")
	gitRun("commit", "-qm", "base")
	rules := filepath.Join(dir, "rulesets", "heartbeat", "heartbeat_rules.yaml")
	must(t, os.WriteFile(rules, append(readFile(t, rules), []byte("# tuned\n")...), 0o644))

	code, out, errOut := runCLI(t, "gate", "--base", "main", "--repo", dir)
	if code != exitInput || !strings.Contains(out, "FAIL heartbeat: the rules changed but the version is still 2.0.0") {
		t.Fatalf("unbumped change: exit %d\n%s%s", code, out, errOut)
	}
	bumpHeartbeat(t, dir, "2.0.1", "patch")
	code, out, _ = runCLI(t, "gate", "--base", "main", "--repo", dir, "-o", "markdown")
	if code != exitOK || !strings.Contains(out, "✅ **falcops gate passed**") || !strings.Contains(out, "2.0.0 → 2.0.1") {
		t.Fatalf("patch bump: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "gate", "--base", "no-such-branch", "--repo", dir); code != exitUsage || !strings.Contains(errOut, "fetch it first") {
		t.Errorf("unknown base: exit %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "gate", "--repo", dir); code != exitUsage {
		t.Errorf("missing --base: exit %d", code)
	}
}

// gitIn runs git in dir with a committer set.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return string(out)
}

// TestGateFromASubfolder: started in rulesets/heartbeat, the gate still
// judges the whole repository, and fails where it fails at the top.
func TestGateFromASubfolder(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	sharedtest.CopyDir(t, filepath.Join("..", "..", "rulesets", "heartbeat"), filepath.Join(dir, "rulesets", "heartbeat"))
	sharedtest.CopyDir(t, filepath.Join("..", "..", "rulesets", "custom-example"), filepath.Join(dir, "rulesets", "custom-example"))
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-qm", "base")
	rules := filepath.Join(dir, "rulesets", "custom-example", "custom_rules.yaml")
	require.NoError(t, os.WriteFile(rules, append(readFile(t, rules), []byte("# tuned\n")...), 0o644))

	t.Chdir(filepath.Join(dir, "rulesets", "heartbeat"))
	code, out, errOut := runCLI(t, "gate", "--base", "main")
	assert.Equal(t, exitInput, code, out+errOut)
	assert.Contains(t, out, "FAIL custom-example")
}

// TestGateShallowCloneHint: in a shallow single-branch clone the base
// branch is missing; the hint the gate prints is a command that fixes it.
func TestGateShallowCloneHint(t *testing.T) {
	src := t.TempDir()
	gitIn(t, src, "init", "-q", "-b", "main")
	sharedtest.CopyDir(t, filepath.Join("..", "..", "rulesets", "heartbeat"), filepath.Join(src, "rulesets", "heartbeat"))
	gitIn(t, src, "add", "-A")
	gitIn(t, src, "commit", "-qm", "base")
	gitIn(t, src, "checkout", "-q", "-b", "pr")
	bumpHeartbeat(t, src, "2.0.1", "patch")
	gitIn(t, src, "commit", "-qam", "bump")
	clone := filepath.Join(t.TempDir(), "clone")
	gitIn(t, t.TempDir(), "clone", "-q", "--depth=1", "--single-branch", "--branch", "pr", "file://"+src, clone)

	t.Chdir(clone)
	code, _, errOut := runCLI(t, "gate", "--base", "origin/main")
	require.Equal(t, exitUsage, code, errOut)
	hint := regexp.MustCompile(`fetch it first: (git fetch [^\n]*)`).FindStringSubmatch(errOut)
	require.NotNil(t, hint, errOut)
	assert.Equal(t, "git fetch --depth=1 origin main:refs/remotes/origin/main", hint[1])
	gitIn(t, clone, strings.Fields(hint[1])[1:]...)
	code, out, errOut := runCLI(t, "gate", "--base", "origin/main")
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "gate passed against origin/main")
}
