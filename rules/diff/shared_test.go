package diff

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedRel is the shared upstream rules folder relative to this package.
var sharedRel = filepath.Join("..", "..", "..", "shared", "upstream-rules")

// sharedDir returns the absolute path of the shared upstream rules folder
// (../../../shared/upstream-rules relative to this package, the folder next
// to the repository). When the folder is absent the test is skipped, unless
// FALCOPS_REQUIRE_SHARED=1, in which case it fails.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(sharedRel)
	if err != nil {
		t.Fatalf("resolving shared upstream rules folder: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if os.Getenv("FALCOPS_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared upstream rules folder %s is missing and FALCOPS_REQUIRE_SHARED=1", dir)
		}
		t.Skipf("shared upstream rules folder %s is absent; skipping (set FALCOPS_REQUIRE_SHARED=1 to make this an error)", dir)
	}
	return dir
}
