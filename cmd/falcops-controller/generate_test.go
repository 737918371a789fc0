package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/falcops/falcops/internal/testenv"
)

// TestGeneratedManifestsUpToDate regenerates the CRDs and RBAC with the
// pinned controller-gen (make test passes its path) and requires them to
// equal what config/ holds: a changed API or RBAC marker without
// `make generate` fails here.
func TestGeneratedManifestsUpToDate(t *testing.T) {
	gen := testenv.RequireEnv(t, "FALCOPS_CONTROLLER_GEN", "run `make test` (it builds controller-gen with hack/tools.sh)")
	root := testenv.RepoRoot()
	out := t.TempDir()
	cmd := exec.Command(gen, "crd", "rbac:roleName=falcops-controller",
		"paths=./api/v1alpha1/...", "paths=./api/profile/...", "paths=./cmd/falcops-controller/...",
		"output:crd:artifacts:config="+filepath.Join(out, "crd"), "output:rbac:artifacts:config="+filepath.Join(out, "rbac"))
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, b)
	}
	compare := func(genDir, repoDir string) {
		entries, err := os.ReadDir(genDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			t.Fatalf("controller-gen wrote nothing into %s", genDir)
		}
		for _, e := range entries {
			want, err := os.ReadFile(filepath.Join(genDir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(root, repoDir, e.Name()))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s/%s is not what controller-gen generates: run `make generate`", repoDir, e.Name())
			}
		}
	}
	compare(filepath.Join(out, "crd"), "config/crd/bases")
	compare(filepath.Join(out, "rbac"), "config/rbac")
}
