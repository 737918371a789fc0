package gitrepo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/gitrepo"
	"github.com/falcops/falcops/gitrepo/gitrepotest"
)

func TestOrigin(t *testing.T) {
	source, revision, err := gitrepo.Origin(t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, source+revision, "outside a repository both are empty")

	g := gitrepotest.New(t)
	g.Write("a.txt", "a")
	head := g.Commit("one")
	g.Write("sub/b.txt", "b")
	for _, c := range []struct{ url, want string }{
		{"git@github.com:acme/rules.git", "https://github.com/acme/rules.git"},
		{"https://user:token@github.com/acme/rules.git", "https://github.com/acme/rules.git"},
		{"https://github.com/acme/rules", "https://github.com/acme/rules"},
	} {
		run(t, g.Dir, "git", "remote", "remove", "origin")
		run(t, g.Dir, "git", "remote", "add", "origin", c.url)
		source, revision, err := gitrepo.Origin(filepath.Join(g.Dir, "sub"))
		require.NoError(t, err)
		assert.Equal(t, c.want, source, "no credentials reach an annotation")
		assert.Equal(t, head, revision)
	}
}

// run runs a git command; the remote removal of a missing remote may fail.
func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	_ = cmd.Run()
}

func TestBaseExtract(t *testing.T) {
	g := gitrepotest.New(t)
	g.Write("rulesets/a/ruleset.yaml", "name: a\n")
	g.Write("rulesets/a/rules.yaml", "- list: x\n  items: []\n")
	g.Write("other/file.txt", "not extracted")
	base := g.Commit("base")
	g.Write("rulesets/a/rules.yaml", "changed in the work tree")

	b, err := gitrepo.OpenBase(g.Dir, "master")
	require.NoError(t, err)
	assert.Equal(t, base, b.Commit)
	assert.Equal(t, ".", b.Dir)
	dest := t.TempDir()
	require.NoError(t, b.Extract("rulesets", dest))
	data, err := os.ReadFile(filepath.Join(dest, "a", "rules.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "- list: x\n  items: []\n", string(data), "the base revision's bytes, not the work tree's")
	assert.NoFileExists(t, filepath.Join(dest, "file.txt"))
	require.NoError(t, b.Extract("missing", t.TempDir()), "a missing folder extracts nothing")

	sub, err := gitrepo.OpenBase(filepath.Join(g.Dir, "rulesets"), base[:12])
	require.NoError(t, err)
	assert.Equal(t, "rulesets", sub.Dir)

	_, err = gitrepo.OpenBase(g.Dir, "origin/main")
	require.ErrorIs(t, err, gitrepo.ErrBaseNotFound)
	_, err = gitrepo.OpenBase(t.TempDir(), "master")
	require.Error(t, err)
}

func TestBaseInLinkedWorktree(t *testing.T) {
	g := gitrepotest.New(t)
	g.Write("rulesets/a/rules.yaml", "x")
	base := g.Commit("base")
	wt := filepath.Join(t.TempDir(), "wt")
	out, err := exec.Command("git", "-C", g.Dir, "worktree", "add", "-q", wt, "-b", "feature").CombinedOutput()
	require.NoError(t, err, string(out))
	b, err := gitrepo.OpenBase(wt, "master")
	require.NoError(t, err, "a linked worktree (git worktree add) is a repository too")
	assert.Equal(t, base, b.Commit)
}

func TestEdit(t *testing.T) {
	g := gitrepotest.New(t)
	file := g.Write("profiles/falco.yaml", "a\n")
	g.Write("README.md", "r\n")
	initial := g.Commit("initial")

	_, err := gitrepo.NewEdit(file, "master", false)
	require.ErrorContains(t, err, "the branch exists")
	_, err = gitrepo.NewEdit(file, "bad..name", false)
	require.ErrorContains(t, err, "--branch")
	_, err = gitrepo.NewEdit(filepath.Join(t.TempDir(), "x.yaml"), "b", false)
	require.ErrorContains(t, err, "not in a Git repository")

	g.Write("README.md", "staged\n")
	g.Stage("README.md")
	_, err = gitrepo.NewEdit(file, "b", true)
	require.ErrorContains(t, err, "README.md is staged")
	g.Write("README.md", "r\n")
	g.Stage("README.md")

	e, err := gitrepo.NewEdit(file, "edit", true)
	require.NoError(t, err)
	require.NoError(t, e.Checkout())
	require.NoError(t, os.WriteFile(file, []byte("b\n"), 0o644))
	hash, err := e.CommitFile("profile: edit")
	require.NoError(t, err)
	branch, head := g.Head()
	assert.Equal(t, "edit", branch)
	assert.Equal(t, hash, head)
	c := g.Show(hash)
	assert.Equal(t, []string{initial}, c.Parents)
	assert.Equal(t, []string{"profiles/falco.yaml"}, c.Changed)
	assert.True(t, strings.HasPrefix(c.Files["profiles/falco.yaml"], "b"))
}
