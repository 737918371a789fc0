package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	if code != exitInput || !strings.Contains(out, "FAIL heartbeat: the rules changed but the version is still 1.0.0") {
		t.Fatalf("unbumped change: exit %d\n%s%s", code, out, errOut)
	}
	bumpHeartbeat(t, dir, "1.0.1", "patch")
	code, out, _ = runCLI(t, "gate", "--base", "main", "--repo", dir, "-o", "markdown")
	if code != exitOK || !strings.Contains(out, "✅ **falcops gate passed**") || !strings.Contains(out, "1.0.0 → 1.0.1") {
		t.Fatalf("patch bump: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "gate", "--base", "no-such-branch", "--repo", dir); code != exitUsage || !strings.Contains(errOut, "fetch it first") {
		t.Errorf("unknown base: exit %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "gate", "--repo", dir); code != exitUsage {
		t.Errorf("missing --base: exit %d", code)
	}
}
