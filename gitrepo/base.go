package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxBlobSize bounds each file read from the base revision.
const maxBlobSize = 32 << 20

// ErrBaseNotFound means the base revision is not in the repository (in CI:
// fetch it, e.g. `git fetch --depth=1 origin main`).
var ErrBaseNotFound = errors.New("base revision not found")

// Base is a revision of the repository that holds a folder.
type Base struct {
	// Commit is the revision's commit hash.
	Commit string
	// Dir is the folder's path inside the repository, with slashes ("." for
	// the root).
	Dir  string
	tree *object.Tree
}

// OpenBase opens the Git repository holding dir and the commit rev names
// (a branch, remote branch, tag or commit).
func OpenBase(dir, rev string) (*Base, error) {
	repo, err := open(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the Git repository at %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("the repository at %s has no work tree: %w", dir, err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root := wt.Filesystem.Root()
	rel, err := filepath.Rel(root, absDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("%s is not inside the repository %s", dir, root)
	}
	hash, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBaseNotFound, rev, err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a commit: %w", ErrBaseNotFound, rev, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", hash, err)
	}
	return &Base{Commit: hash.String(), Dir: filepath.ToSlash(rel), tree: tree}, nil
}

// Extract writes the regular files below prefix (a path inside the
// repository, with slashes) into dest. Symlinks and submodules are skipped,
// sizes bounded, paths kept inside dest. A missing prefix writes nothing.
func (b *Base) Extract(prefix, dest string) error {
	tree := b.tree
	sub := tree
	if prefix != "" && prefix != "." {
		t, err := tree.Tree(prefix)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		sub = t
	}
	return sub.Files().ForEach(func(f *object.File) error {
		if !f.Mode.IsFile() {
			return nil
		}
		clean := path.Clean(f.Name)
		if strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
			return fmt.Errorf("unsafe path %q in the base revision", f.Name)
		}
		if f.Size > maxBlobSize {
			return fmt.Errorf("%s: %d bytes in the base revision, more than %d", f.Name, f.Size, maxBlobSize)
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close() //nolint:errcheck // read-only
		data, err := io.ReadAll(io.LimitReader(r, maxBlobSize))
		if err != nil {
			return err
		}
		p := filepath.Join(dest, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	})
}
