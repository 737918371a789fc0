package gate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/gitrepo"
	"github.com/falcops/falcops/gitrepo/gitrepotest"
	"github.com/falcops/falcops/internal/sharedtest"
)

// baseRules is the shared fixture: a list, a macro and two rules.
var baseRules = sharedtest.Fixture("shell_rules.yaml")

// ruleset writes a ruleset folder with one rules file into the repository.
func ruleset(g *gitrepotest.Repo, folder, name, version, rules string) {
	g.Write("rulesets/"+folder+"/ruleset.yaml", "name: "+name+"\nversion: "+version+"\nfiles: [rules.yaml]\n")
	g.Write("rulesets/"+folder+"/rules.yaml", rules)
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
			g := gitrepotest.New(t)
			ruleset(g, "shells", "shells", "1.0.0", baseRules)
			base := g.Commit("base")
			ruleset(g, "shells", "shells", c.newVersion, c.newRules)
			res, err := Run(g.Dir, base)
			require.NoError(t, err)
			v := verdictOf(t, res, "shells")
			assert.Equal(t, c.want, v.Status, v.Reason)
			assert.Contains(t, v.Reason, c.reason)
			assert.Equal(t, c.want != StatusFail, res.Passed())
		})
	}
}

func TestGateNewRenamedDeleted(t *testing.T) {
	g := gitrepotest.New(t)
	ruleset(g, "shells", "shells", "1.0.0", baseRules)
	ruleset(g, "old-name", "old-name", "1.0.0", strings.ReplaceAll(baseRules, "Shell", "Old shell"))
	ruleset(g, "gone", "gone", "3.0.0", strings.ReplaceAll(baseRules, "Shell", "Gone shell"))
	g.Commit("base")
	require.NoError(t, os.RemoveAll(filepath.Join(g.Dir, "rulesets", "old-name")))
	require.NoError(t, os.RemoveAll(filepath.Join(g.Dir, "rulesets", "gone")))
	ruleset(g, "new-name", "new-name", "1.0.0", strings.ReplaceAll(baseRules, "Shell", "Old shell"))
	ruleset(g, "fresh", "fresh", "0.1.0", strings.ReplaceAll(baseRules, "Shell", "Fresh shell"))
	ruleset(g, "broken", "broken", "0.1.0", "- rule: broken\n  desc: d\n")
	res, err := Run(g.Dir, "master")
	require.NoError(t, err)
	for name, want := range map[string]Status{"shells": StatusUnchanged, "new-name": StatusRenamed, "gone": StatusDeleted, "fresh": StatusNew, "broken": StatusFail} {
		v := verdictOf(t, res, name)
		assert.Equal(t, want, v.Status, "%s: %s", name, v.Reason)
	}
	assert.Contains(t, verdictOf(t, res, "new-name").Reason, `renamed from "old-name"`)
	var md bytes.Buffer
	require.NoError(t, res.WriteMarkdown(&md))
	for _, want := range []string{"❌ **falcops gate failed**", "### 🔀 `new-name`", "### 🗑️ `gone`", "### 🆕 `fresh`", "### ❌ `broken`"} {
		assert.Contains(t, md.String(), want)
	}
}

// TestGateShallowClone runs the gate in a clone that has only the pull
// request's commit and the base branch's tip, each fetched with depth 1, as
// CI checkouts do.
func TestGateShallowClone(t *testing.T) {
	src := gitrepotest.New(t)
	ruleset(src, "shells", "shells", "1.0.0", baseRules)
	src.Commit("one")
	src.Write("README.md", "history the clone does not need\n")
	src.Commit("two")
	src.NewBranch("pr")
	ruleset(src, "shells", "shells", "1.0.0", strings.Split(baseRules, "- rule: Netcat spawned")[0])
	src.Commit("remove a rule without a version bump")

	clone := gitrepotest.ShallowClone(t, src, "pr", "+refs/heads/master:refs/remotes/origin/master")
	require.False(t, clone.HasObject(src.Resolve("master~1")), "the clone is not shallow: it has the base's parent")
	res, err := Run(clone.Dir, "origin/master")
	require.NoError(t, err)
	v := verdictOf(t, res, "shells")
	assert.Equal(t, StatusFail, v.Status)
	assert.Contains(t, v.Reason, "major")
	_, err = Run(clone.Dir, "origin/nope")
	require.ErrorIs(t, err, gitrepo.ErrBaseNotFound)
}
