package gate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

const baseRules = `- required_engine_version: 0.31.0
- list: shell_binaries
  items: [bash, sh]
- macro: spawned_process
  condition: evt.type in (execve, execveat)
- rule: Shell spawned
  desc: a shell was started
  condition: spawned_process and proc.name in (shell_binaries)
  output: shell %proc.name
  priority: WARNING
- rule: Netcat spawned
  desc: netcat was started
  condition: spawned_process and proc.name = nc
  output: netcat %proc.cmdline
  priority: NOTICE
`

type gitRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
}

func newGitRepo(t *testing.T) *gitRepo {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return &gitRepo{t, dir, repo}
}

func (g *gitRepo) write(rel, body string) {
	p := filepath.Join(g.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		g.t.Fatal(err)
	}
}

func (g *gitRepo) ruleset(folder, name, version, rules string) {
	g.write("rulesets/"+folder+"/ruleset.yaml", "name: "+name+"\nversion: "+version+"\nfiles: [rules.yaml]\n")
	g.write("rulesets/"+folder+"/rules.yaml", rules)
}

func (g *gitRepo) commit(msg string) plumbing.Hash {
	wt, err := g.repo.Worktree()
	if err != nil {
		g.t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		g.t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{All: true, Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1700000000, 0)}})
	if err != nil {
		g.t.Fatal(err)
	}
	return h
}

func verdictOf(t *testing.T, res *Result, name string) Verdict {
	t.Helper()
	for _, v := range res.Verdicts {
		if v.Ruleset == name {
			return v
		}
	}
	t.Fatalf("no verdict for %s in %+v", name, res.Verdicts)
	return Verdict{}
}

func TestGateVerdicts(t *testing.T) {
	cases := []struct {
		name       string
		newVersion string
		newRules   string
		want       Status
		reason     string
	}{
		{"rule removed, minor bump is not enough", "1.1.0", strings.Split(baseRules, "- rule: Netcat spawned")[0], StatusFail, "need a major bump"},
		{"rule removed, major bump", "2.0.0", strings.Split(baseRules, "- rule: Netcat spawned")[0], StatusPass, "major"},
		{"rule added, minor bump", "1.1.0", baseRules + "- rule: Socat spawned\n  desc: socat\n  condition: spawned_process and proc.name = socat\n  output: socat %proc.cmdline\n  priority: NOTICE\n", StatusPass, "minor"},
		{"rule added, patch bump is not enough", "1.0.1", baseRules + "- rule: Socat spawned\n  desc: socat\n  condition: spawned_process and proc.name = socat\n  output: socat %proc.cmdline\n  priority: NOTICE\n", StatusFail, "need a minor bump"},
		{"content changed, version not", "1.0.0", baseRules + "# a comment changes the artifact bytes\n", StatusFail, "version is still 1.0.0"},
		{"comment only, patch bump", "1.0.1", baseRules + "# a comment\n", StatusPass, "patch"},
		{"version goes down", "0.9.0", baseRules + "# x\n", StatusFail, "went down"},
		{"nothing changed", "1.0.0", baseRules, StatusUnchanged, "unchanged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGitRepo(t)
			g.ruleset("shells", "shells", "1.0.0", baseRules)
			base := g.commit("base")
			g.ruleset("shells", "shells", c.newVersion, c.newRules)
			res, err := Run(g.dir, base.String())
			if err != nil {
				t.Fatal(err)
			}
			v := verdictOf(t, res, "shells")
			if v.Status != c.want || !strings.Contains(v.Reason, c.reason) {
				t.Errorf("got %s %q, want %s with %q", v.Status, v.Reason, c.want, c.reason)
			}
			if res.Passed() == (c.want == StatusFail) {
				t.Errorf("Passed() = %v for %s", res.Passed(), c.want)
			}
		})
	}
}

func TestGateNewRenamedDeleted(t *testing.T) {
	g := newGitRepo(t)
	g.ruleset("shells", "shells", "1.0.0", baseRules)
	g.ruleset("old-name", "old-name", "1.0.0", strings.ReplaceAll(baseRules, "Shell", "Old shell"))
	g.ruleset("gone", "gone", "3.0.0", strings.ReplaceAll(baseRules, "Shell", "Gone shell"))
	g.commit("base")
	must(t, os.RemoveAll(filepath.Join(g.dir, "rulesets", "old-name")))
	must(t, os.RemoveAll(filepath.Join(g.dir, "rulesets", "gone")))
	g.ruleset("new-name", "new-name", "1.0.0", strings.ReplaceAll(baseRules, "Shell", "Old shell"))
	g.ruleset("fresh", "fresh", "0.1.0", strings.ReplaceAll(baseRules, "Shell", "Fresh shell"))
	g.ruleset("broken", "broken", "0.1.0", "- rule: broken\n  desc: d\n")
	res, err := Run(g.dir, "master")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Status{"shells": StatusUnchanged, "new-name": StatusRenamed, "gone": StatusDeleted, "fresh": StatusNew, "broken": StatusFail} {
		if v := verdictOf(t, res, name); v.Status != want {
			t.Errorf("%s: %s (%s), want %s", name, v.Status, v.Reason, want)
		}
	}
	if v := verdictOf(t, res, "new-name"); !strings.Contains(v.Reason, `renamed from "old-name"`) {
		t.Errorf("rename reason: %q", v.Reason)
	}
	var md bytes.Buffer
	must(t, res.WriteMarkdown(&md))
	for _, want := range []string{"❌ **falcops gate failed**", "### 🔀 `new-name`", "### 🗑️ `gone`", "### 🆕 `fresh`", "### ❌ `broken`"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// TestGateShallowClone runs the gate in a clone that has only the pull
// request's commit and the base branch's tip, each fetched with depth 1, as
// CI checkouts do.
func TestGateShallowClone(t *testing.T) {
	src := newGitRepo(t)
	src.ruleset("shells", "shells", "1.0.0", baseRules)
	src.commit("one")
	src.write("README.md", "history the clone does not need\n")
	src.commit("two")
	wt, err := src.repo.Worktree()
	must(t, err)
	must(t, wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("pr"), Create: true}))
	src.ruleset("shells", "shells", "1.0.0", strings.Split(baseRules, "- rule: Netcat spawned")[0])
	src.commit("remove a rule without a version bump")

	dir := t.TempDir()
	clone, err := git.PlainClone(dir, false, &git.CloneOptions{URL: src.dir, ReferenceName: plumbing.NewBranchReferenceName("pr"), SingleBranch: true, Depth: 1})
	must(t, err)
	must(t, clone.Fetch(&git.FetchOptions{Depth: 1, RefSpecs: []config.RefSpec{"+refs/heads/master:refs/remotes/origin/master"}}))
	if _, err := clone.CommitObject(mustHash(t, src.repo, "master~1")); err == nil {
		t.Fatal("the clone is not shallow: it has the base's parent")
	}
	res, err := Run(dir, "origin/master")
	must(t, err)
	v := verdictOf(t, res, "shells")
	if v.Status != StatusFail || !strings.Contains(v.Reason, "major") {
		t.Errorf("got %s %q", v.Status, v.Reason)
	}
	if _, err := Run(dir, "origin/nope"); err == nil || !strings.Contains(err.Error(), "base revision not found") {
		t.Errorf("unknown base: %v", err)
	}
}

func mustHash(t *testing.T, r *git.Repository, rev string) plumbing.Hash {
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	must(t, err)
	return *h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
