package sharedtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Environment variables that turn a skip into a failure (CI sets both).
const (
	// RequireEnv makes a missing shared folder an error instead of a skip.
	RequireEnv = "FALCOPS_REQUIRE_SHARED"
	// RequireToolsEnv makes missing tools (falcoctl, cosign, envtest assets)
	// an error instead of a skip.
	RequireToolsEnv = "FALCOPS_REQUIRE_TOOLS"
)

// SkipOrFail skips the test because a prerequisite is missing, or fails it
// when the environment variable require is 1 (CI).
func SkipOrFail(t testing.TB, require, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(require) == "1" {
		t.Fatalf("%s (%s=1)", msg, require)
	}
	t.Skipf("%s; skipping (set %s=1 to make this an error)", msg, require)
}

// Getenv returns the environment variable name that make test sets (the
// envtest assets, a tool's path). Unset, the test is skipped with hint, or
// fails when FALCOPS_REQUIRE_TOOLS=1 (CI).
func Getenv(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		SkipOrFail(t, RequireToolsEnv, "%s is not set: %s", name, hint)
	}
	return v
}

// RepoRoot is the repository root: the folder holding go.mod, found by
// walking up from the test's working directory (its package).
func RepoRoot(t testing.TB) string {
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

// Path returns the absolute path of rel (slash-separated) inside the shared
// folder beside the repository, or skips the test when it is absent (fails
// with FALCOPS_REQUIRE_SHARED=1).
func Path(t testing.TB, rel string) string {
	t.Helper()
	p, ok := PathIfPresent(t, rel)
	if !ok {
		SkipOrFail(t, RequireEnv, "shared %s is absent", p)
	}
	return p
}

// PathIfPresent is Path for optional uses such as fuzz seeding: it reports
// whether the path exists instead of skipping, and still fails when
// FALCOPS_REQUIRE_SHARED=1 and it is absent.
func PathIfPresent(t testing.TB, rel string) (string, bool) {
	t.Helper()
	p := filepath.Join(filepath.Dir(RepoRoot(t)), "shared", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("shared %s is missing and %s=1", p, RequireEnv)
		}
		return p, false
	}
	return p, true
}

// UpstreamRules returns ../shared/upstream-rules (one folder per upstream
// rules release), or skips the test when it is absent.
func UpstreamRules(t testing.TB) string {
	t.Helper()
	return Path(t, "upstream-rules")
}

// UpstreamRulesIfPresent is UpstreamRules without the skip.
func UpstreamRulesIfPresent(t testing.TB) (string, bool) {
	t.Helper()
	return PathIfPresent(t, "upstream-rules")
}

// UpstreamRulesets makes the repository's tuning rulesets loadable: it
// sets FALCOPS_RULESETS_PATH (when unset; make test sets it) to ruleset
// folders of the newest upstream release per major line, written by
// hack/upstream-rulesets.sh from ../shared/upstream-rules into a temporary
// folder, and returns it. It skips the test when ../shared is absent.
func UpstreamRulesets(t testing.TB) string {
	t.Helper()
	if v := os.Getenv("FALCOPS_RULESETS_PATH"); v != "" {
		return v
	}
	src := UpstreamRules(t)
	cmd := exec.Command("bash", filepath.Join(RepoRoot(t), "hack", "upstream-rulesets.sh"))
	cmd.Env = append(os.Environ(), "FALCOPS_CACHE="+t.TempDir(), "FALCOPS_UPSTREAM_RULES="+src)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/upstream-rulesets.sh: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	t.Setenv("FALCOPS_RULESETS_PATH", dir)
	return dir
}

// WriteFiles writes each slash-separated name -> content below dir,
// creating folders, and returns dir. A leading newline of a content is
// dropped, so fixtures can start on the line after the backquote.
func WriteFiles(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		WriteFile(t, dir, name, strings.TrimPrefix(content, "\n"))
	}
	return dir
}

// WriteFile writes one file below dir, creating folders, and returns its
// path. The content is written as it is.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// CopyDir copies the regular files of the folder tree src into dst
// (created) and returns dst.
func CopyDir(t testing.TB, src, dst string) string {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// Fixture returns the content of a file of sharedtest's testdata folder,
// the fixtures several packages' tests share (e.g. shell_rules.yaml).
func Fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "testdata", name))
	if err != nil {
		panic(err) // a missing fixture is a broken test suite
	}
	return string(data)
}
