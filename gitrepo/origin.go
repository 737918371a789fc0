package gitrepo

import (
	"errors"
	"strings"

	"github.com/go-git/go-git/v5"
)

// Origin returns the repository URL (remote "origin", as https when it is
// an SSH URL, without credentials) and the HEAD commit of the Git
// repository holding dir. Outside a repository both are empty: the
// annotations are then left out.
func Origin(dir string) (source, revision string, err error) {
	repo, err := open(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	if head, err := repo.Head(); err == nil {
		revision = head.Hash().String()
	}
	if remote, err := repo.Remote("origin"); err == nil && len(remote.Config().URLs) > 0 {
		source = httpsURL(remote.Config().URLs[0])
	}
	return source, revision, nil
}

// httpsURL turns git@host:org/repo.git into https://host/org/repo.git and
// drops credentials from https URLs, so no secret reaches an annotation.
func httpsURL(u string) string {
	if rest, ok := strings.CutPrefix(u, "git@"); ok {
		host, path, _ := strings.Cut(rest, ":")
		return "https://" + host + "/" + path
	}
	if scheme, rest, ok := strings.Cut(u, "://"); ok {
		if at := strings.Index(rest, "@"); at >= 0 && at < strings.Index(rest+"/", "/") {
			rest = rest[at+1:]
		}
		return scheme + "://" + rest
	}
	return u
}

// open opens the repository holding dir, in a parent folder or as a linked
// worktree (git worktree add).
func open(dir string) (*git.Repository, error) {
	return git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
}

// Root returns the top folder of the work tree of the Git repository
// holding dir, or "" when dir is in none.
func Root(dir string) (string, error) {
	repo, err := open(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", err
	}
	return wt.Filesystem.Root(), nil
}
