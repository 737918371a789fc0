package gitrepotest

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a Git repository with a work tree in a temporary folder, its
// committer configured.
type Repo struct {
	Dir  string
	t    testing.TB
	repo *git.Repository
}

// New initialises an empty repository (default branch master).
func New(t testing.TB) *Repo {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := repo.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg.User.Name, cfg.User.Email = "Test", "test@example.com"
	if err := repo.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return &Repo{Dir: dir, t: t, repo: repo}
}

// Write writes a file of the work tree (rel with slashes), creating folders.
func (r *Repo) Write(rel, content string) string {
	r.t.Helper()
	p := filepath.Join(r.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *Repo) worktree() *git.Worktree {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	return wt
}

// Stage adds one file to the index.
func (r *Repo) Stage(rel string) {
	r.t.Helper()
	if _, err := r.worktree().Add(rel); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages every change and commits it (a fixed author time) and
// returns the commit hash.
func (r *Repo) Commit(message string) string {
	r.t.Helper()
	wt := r.worktree()
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		r.t.Fatal(err)
	}
	sig := &object.Signature{Name: "Test", Email: "test@example.com", When: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h, err := wt.Commit(message, &git.CommitOptions{All: true, Author: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// NewBranch creates branch at HEAD and checks it out.
func (r *Repo) NewBranch(branch string) {
	r.t.Helper()
	if err := r.worktree().Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: true}); err != nil {
		r.t.Fatal(err)
	}
}

// Head returns the checked-out branch (short name) and commit.
func (r *Repo) Head() (branch, hash string) {
	r.t.Helper()
	head, err := r.repo.Head()
	if err != nil {
		r.t.Fatal(err)
	}
	return head.Name().Short(), head.Hash().String()
}

// Resolve returns the commit rev names, or "" when it is unknown.
func (r *Repo) Resolve(rev string) string {
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return ""
	}
	return h.String()
}

// Branches lists the local branches, sorted.
func (r *Repo) Branches() []string {
	r.t.Helper()
	it, err := r.repo.Branches()
	if err != nil {
		r.t.Fatal(err)
	}
	var names []string
	_ = it.ForEach(func(ref *plumbing.Reference) error {
		names = append(names, ref.Name().Short())
		return nil
	})
	sort.Strings(names)
	return names
}

// Clean reports whether the work tree and index match HEAD.
func (r *Repo) Clean() bool {
	r.t.Helper()
	st, err := r.worktree().Status()
	if err != nil {
		r.t.Fatal(err)
	}
	return st.IsClean()
}

// Commit is what one commit says and changed.
type Commit struct {
	Message string
	Parents []string
	// Changed are the paths that differ from the first parent.
	Changed []string
	// Files are the contents of the changed files in this commit.
	Files map[string]string
}

// Show describes the commit rev names.
func (r *Repo) Show(rev string) Commit {
	r.t.Helper()
	h := r.Resolve(rev)
	if h == "" {
		r.t.Fatalf("no commit %q", rev)
	}
	c, err := r.repo.CommitObject(plumbing.NewHash(h))
	if err != nil {
		r.t.Fatal(err)
	}
	out := Commit{Message: strings.TrimSpace(c.Message), Files: map[string]string{}}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	tree, err := c.Tree()
	if err != nil {
		r.t.Fatal(err)
	}
	parent := &object.Tree{}
	if c.NumParents() > 0 {
		pc, err := c.Parent(0)
		if err != nil {
			r.t.Fatal(err)
		}
		if parent, err = pc.Tree(); err != nil {
			r.t.Fatal(err)
		}
	}
	changes, err := parent.Diff(tree)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, ch := range changes {
		name := ch.To.Name
		if name == "" {
			name = ch.From.Name
		}
		out.Changed = append(out.Changed, name)
		if f, err := tree.File(name); err == nil {
			out.Files[name], _ = f.Contents()
		}
	}
	sort.Strings(out.Changed)
	return out
}

// ShallowClone clones branch of src with depth 1 and a single branch, then
// fetches each of fetch (refspecs such as
// "+refs/heads/master:refs/remotes/origin/master") with depth 1, as CI
// checkouts do, and returns the clone.
func ShallowClone(t testing.TB, src *Repo, branch string, fetch ...string) *Repo {
	t.Helper()
	dir := t.TempDir()
	clone, err := git.PlainClone(dir, false, &git.CloneOptions{URL: src.Dir, ReferenceName: plumbing.NewBranchReferenceName(branch), SingleBranch: true, Depth: 1})
	if err != nil {
		t.Fatal(err)
	}
	var specs []config.RefSpec
	for _, f := range fetch {
		specs = append(specs, config.RefSpec(f))
	}
	if len(specs) > 0 {
		if err := clone.Fetch(&git.FetchOptions{Depth: 1, RefSpecs: specs}); err != nil {
			t.Fatal(err)
		}
	}
	return &Repo{Dir: dir, t: t, repo: clone}
}

// HasObject reports whether the repository holds the commit hash.
func (r *Repo) HasObject(hash string) bool {
	_, err := r.repo.CommitObject(plumbing.NewHash(hash))
	return err == nil
}
