package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/gitrepo"
)

// repoRoot is where commands that default to "the repository" look when no
// path is given, so they behave the same from any folder of it: the top of
// the Git work tree, else the nearest folder up holding rulesets/, else ".".
// It is returned relative to the working directory when that is shorter,
// so findings keep short paths.
func repoRoot() string { return repoRootOf(".") }

// repoRootOf is repoRoot for the repository holding path.
func repoRootOf(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "."
	}
	root, _ := gitrepo.Root(abs)
	if root == "" {
		for d := abs; ; d = filepath.Dir(d) {
			if fi, err := os.Stat(filepath.Join(d, "rulesets")); err == nil && fi.IsDir() {
				root = d
				break
			}
			if filepath.Dir(d) == d {
				return "."
			}
		}
	}
	if rel, err := filepath.Rel(wd, root); err == nil && len(rel) < len(root) {
		return rel
	}
	return root
}

// repoFlags are the flags whose defaults name a place in the repository.
var repoFlags = []string{"repo", "profile", "profiles", "dir", "state"}

// anchorDefaults makes the defaults of repoFlags relative to the
// repository root, when the user did not set them, so a command started in
// a subfolder reads the same files as one started at the top.
func anchorDefaults(cmd *cobra.Command) error {
	root := repoRoot()
	if root == "." {
		return nil
	}
	for _, name := range repoFlags {
		f := cmd.Flags().Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		def := strings.TrimSuffix(strings.TrimPrefix(f.DefValue, "["), "]")
		if def == "" {
			continue
		}
		if err := f.Value.Set(filepath.Join(root, def)); err != nil {
			return err
		}
	}
	return nil
}
