// Package sharedtest finds the shared test data beside the repository
// (../shared/upstream-rules: every upstream Falco rules release) for tests.
// A user's clone has no shared/: tests then skip, unless
// FALCOPS_REQUIRE_SHARED=1 (set by .ci/run), which makes them fail.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// RequireEnv makes a missing shared folder an error instead of a skip.
const RequireEnv = "FALCOPS_REQUIRE_SHARED"

// UpstreamRules returns the absolute path of ../shared/upstream-rules next to
// the module root, or skips the test when it is absent.
func UpstreamRules(t testing.TB) string {
	t.Helper()
	dir, ok := UpstreamRulesIfPresent(t)
	if !ok {
		t.Skipf("shared upstream rules folder %s is absent; skipping (set %s=1 to make this an error)", dir, RequireEnv)
	}
	return dir
}

// UpstreamRulesIfPresent is UpstreamRules for optional uses such as fuzz
// seeding: it reports whether the folder exists instead of skipping, and
// still fails when FALCOPS_REQUIRE_SHARED=1 and it is absent.
func UpstreamRulesIfPresent(t testing.TB) (string, bool) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(moduleRoot(t)), "shared", "upstream-rules")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("shared upstream rules folder %s is missing and %s=1", dir, RequireEnv)
		}
		return dir, false
	}
	return dir, true
}

// moduleRoot walks up from the test's working directory (its package) to the
// folder holding go.mod.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}
