package sharedtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records a skip or a failure instead of
// ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skipf(format string, args ...any)  { r.skipped = format }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = format }
func (r *recorder) Helper()                           {}

func TestSkipOrFail(t *testing.T) {
	t.Setenv("FALCOPS_TEST_REQUIRE", "")
	r := &recorder{TB: t}
	SkipOrFail(r, "FALCOPS_TEST_REQUIRE", "tool %s missing", "x")
	assert.NotEmpty(t, r.skipped)
	assert.Empty(t, r.failed)
	t.Setenv("FALCOPS_TEST_REQUIRE", "1")
	r = &recorder{TB: t}
	SkipOrFail(r, "FALCOPS_TEST_REQUIRE", "tool %s missing", "x")
	assert.NotEmpty(t, r.failed, "with the require variable set a missing prerequisite fails")
}

func TestRepoRootAndFiles(t *testing.T) {
	root := RepoRoot(t)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	dir := WriteFiles(t, t.TempDir(), map[string]string{"a/b.yaml": "\nx: 1\n", "c.txt": "c"})
	data, err := os.ReadFile(filepath.Join(dir, "a", "b.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "x: 1\n", string(data), "the leading newline is dropped")
	cp := CopyDir(t, dir, filepath.Join(t.TempDir(), "copy"))
	data, err = os.ReadFile(filepath.Join(cp, "a", "b.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "x: 1\n", string(data))
	assert.FileExists(t, filepath.Join(cp, "c.txt"))
}
