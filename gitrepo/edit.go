package gitrepo

import (
	"fmt"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Edit is a one-file edit on a new branch of the repository holding the
// file (a profile edit); every check is made before anything changes.
type Edit struct {
	repo   *git.Repository
	wt     *git.Worktree
	rel    string // the file, relative to the worktree root, with slashes
	branch plumbing.ReferenceName
	head   plumbing.Hash
}

// NewEdit checks that file is in a Git repository, that branch is a new,
// valid branch name and, when commit is set, that git can commit (user name
// and email) and that nothing but the file would be committed.
func NewEdit(file, branch string, commit bool) (*Edit, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	repo, err := open(filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("--branch: %s is not in a Git repository: %w", file, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	root := wt.Filesystem.Root()
	if resolved, err := filepath.EvalSymlinks(root); err == nil {
		root = resolved
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, err
	}
	g := &Edit{repo: repo, wt: wt, rel: filepath.ToSlash(rel), branch: plumbing.NewBranchReferenceName(branch)}
	if err := g.branch.Validate(); err != nil {
		return nil, fmt.Errorf("--branch %q: %w", branch, err)
	}
	if _, err := repo.Reference(g.branch, false); err == nil {
		return nil, fmt.Errorf("--branch %q: the branch exists", branch)
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("--branch: no HEAD commit to branch from: %w", err)
	}
	g.head = head.Hash()
	if commit {
		if err := (&git.CommitOptions{}).Validate(repo); err != nil {
			return nil, fmt.Errorf("--commit: %w (set user.name and user.email in git config)", err)
		}
		status, err := wt.Status()
		if err != nil {
			return nil, err
		}
		for path, s := range status {
			if path == g.rel && (s.Worktree != git.Unmodified || s.Staging != git.Unmodified) {
				return nil, fmt.Errorf("%s has uncommitted changes: commit or stash them first", g.rel)
			}
			if path != g.rel && s.Staging != git.Unmodified && s.Staging != git.Untracked {
				return nil, fmt.Errorf("%s is staged: only the profile may be committed, unstage it first", path)
			}
		}
	}
	return g, nil
}

// Checkout creates the branch at HEAD and checks it out, keeping the
// working tree as it is (it is HEAD's tree).
func (g *Edit) Checkout() error {
	if err := g.wt.Checkout(&git.CheckoutOptions{Hash: g.head, Branch: g.branch, Create: true, Keep: true}); err != nil {
		return fmt.Errorf("creating branch %s: %w", g.branch.Short(), err)
	}
	return nil
}

// CommitFile commits the file alone on the checked-out branch and returns
// the commit hash.
func (g *Edit) CommitFile(message string) (string, error) {
	if _, err := g.wt.Add(g.rel); err != nil {
		return "", fmt.Errorf("staging %s: %w", g.rel, err)
	}
	hash, err := g.wt.Commit(message, &git.CommitOptions{})
	if err != nil {
		return "", fmt.Errorf("committing %s: %w (set user.name and user.email in git config)", g.rel, err)
	}
	return hash.String(), nil
}
