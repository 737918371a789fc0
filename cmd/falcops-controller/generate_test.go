package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

// TestGeneratedUpToDate regenerates, with the pinned controller-gen (make
// test passes its path), what `make generate` writes: the deepcopy code of
// every API group, the CRDs and the RBAC. It requires the result to equal
// what the repository holds, so a changed type, API marker or RBAC marker
// without `make generate` fails here.
func TestGeneratedUpToDate(t *testing.T) {
	gen := sharedtest.Getenv(t, "FALCOPS_CONTROLLER_GEN", "run `make test` (it builds controller-gen with hack/tools.sh)")
	root := sharedtest.RepoRoot(t)
	out := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(gen, args...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		require.NoError(t, err, "controller-gen %v:\n%s", args, b)
	}

	t.Run("deepcopy", func(t *testing.T) {
		groups := apiPackages(t, root)
		require.Subset(t, groups, []string{"api/v1alpha1", "api/profile/v1alpha1", "api/service/v1alpha1"})
		for _, group := range groups {
			// One run per group: output:object:dir writes every package's file
			// into the same directory.
			dir := filepath.Join(out, "object", group)
			run("object", "paths=./"+group+"/...", "output:object:dir="+dir)
			compareDir(t, dir, filepath.Join(root, group))
		}
	})
	t.Run("manifests", func(t *testing.T) {
		run("crd", "rbac:roleName=falcops-controller",
			"paths=./api/v1alpha1/...", "paths=./api/profile/...", "paths=./cmd/falcops-controller/...",
			"output:crd:artifacts:config="+filepath.Join(out, "crd"), "output:rbac:artifacts:config="+filepath.Join(out, "rbac"))
		compareDir(t, filepath.Join(out, "crd"), filepath.Join(root, "config/crd/bases"))
		compareDir(t, filepath.Join(out, "rbac"), filepath.Join(root, "config/rbac"))
	})
}

// compareDir requires every file controller-gen wrote into genDir to exist
// in repoDir with the same bytes.
func compareDir(t *testing.T, genDir, repoDir string) {
	t.Helper()
	entries, err := os.ReadDir(genDir)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "controller-gen wrote nothing into %s", genDir)
	for _, e := range entries {
		want, err := os.ReadFile(filepath.Join(genDir, e.Name()))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(repoDir, e.Name()))
		if assert.NoError(t, err, "run `make generate`") {
			// Not assert.Equal: it would print both files in full.
			assert.True(t, bytes.Equal(got, want), "%s is not what controller-gen generates: run `make generate`", filepath.Join(repoDir, e.Name()))
		}
	}
}

// apiPackages lists the directories under api/ that hold Go code: the
// packages `make generate` (object paths=./api/...) writes deepcopy code for.
func apiPackages(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(filepath.Join(root, "api"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		code, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil || len(code) == 0 {
			return err
		}
		rel, err := filepath.Rel(root, path)
		dirs = append(dirs, filepath.ToSlash(rel))
		return err
	})
	require.NoError(t, err)
	return dirs
}
