package condition

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedRel is the shared upstream rules folder relative to this package.
var sharedRel = filepath.Join("..", "..", "..", "shared", "upstream-rules")

// sharedDir returns the absolute path of the shared upstream rules folder
// (../../../shared/upstream-rules relative to this package). When the folder
// is absent the test is skipped, unless FALCOPS_REQUIRE_SHARED=1, in which
// case it fails. It duplicates the helper of package rules, whose test files
// cannot be imported.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, ok := sharedDirIfPresent(t)
	if !ok {
		t.Skipf("shared upstream rules folder %s is absent; skipping (set FALCOPS_REQUIRE_SHARED=1 to make this an error)", dir)
	}
	return dir
}

// sharedDirIfPresent is sharedDir for optional uses such as fuzz seeding: it
// reports whether the folder exists instead of skipping, and still fails when
// FALCOPS_REQUIRE_SHARED=1 and the folder is absent.
func sharedDirIfPresent(t testing.TB) (string, bool) {
	t.Helper()
	dir, err := filepath.Abs(sharedRel)
	if err != nil {
		t.Fatalf("resolving shared upstream rules folder: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if os.Getenv("FALCOPS_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared upstream rules folder %s is missing and FALCOPS_REQUIRE_SHARED=1", dir)
		}
		return dir, false
	}
	return dir, true
}
