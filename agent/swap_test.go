package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// set is a rules set whose every file says which version it belongs to.
func set(version int, names ...string) map[string][]byte {
	files := map[string][]byte{}
	for _, n := range names {
		files[n] = fmt.Appendf(nil, "# %s of set %d\n- list: l\n  items: []\n", n, version)
	}
	return files
}

// falcoLoads is what Falco loads from a rules directory: the regular files
// (symlinks followed) named *.yaml or *.yml, sorted, read path by path.
func falcoLoads(t *testing.T, root string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		info, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a dangling link is not a regular file
		}
		require.NoError(t, err)
		if !info.Mode().IsRegular() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			continue
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		got[e.Name()] = string(data)
	}
	return got
}

func entries(t *testing.T, root string) []string {
	t.Helper()
	es, err := os.ReadDir(root)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		n := e.Name()
		if strings.HasPrefix(n, setPrefix) {
			n = setPrefix + "*"
		}
		names = append(names, n)
	}
	return names
}

func asStrings(files map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = string(v)
	}
	return out
}

func TestSwapReplacesTheWholeSet(t *testing.T) {
	tree := Tree{Root: filepath.Join(t.TempDir(), "rules.d")}
	v1 := set(1, "10-a.yaml", "20-b.yaml")
	changed, err := tree.Swap(v1)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, asStrings(v1), falcoLoads(t, tree.Root))
	assert.Equal(t, []string{"..data", setPrefix + "*", "10-a.yaml", "20-b.yaml"}, entries(t, tree.Root))

	v2 := set(2, "10-a.yaml", "30-c.yml")
	changed, err = tree.Swap(v2)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, asStrings(v2), falcoLoads(t, tree.Root), "20-b.yaml, dropped by the new set, is gone")
	assert.Equal(t, []string{"..data", setPrefix + "*", "10-a.yaml", "30-c.yml"}, entries(t, tree.Root), "one set directory, no leftovers")
	got, err := tree.Files()
	require.NoError(t, err)
	assert.Equal(t, v2, got)

	changed, err = tree.Swap(map[string][]byte{})
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Empty(t, falcoLoads(t, tree.Root))
}

func TestSwapUnchangedTouchesNothing(t *testing.T) {
	tree := Tree{Root: t.TempDir()}
	_, err := tree.Swap(set(1, "10-a.yaml"))
	require.NoError(t, err)
	before, err := os.Readlink(filepath.Join(tree.Root, dataLink))
	require.NoError(t, err)
	changed, err := tree.Swap(set(1, "10-a.yaml"))
	require.NoError(t, err)
	assert.False(t, changed)
	after, err := os.Readlink(filepath.Join(tree.Root, dataLink))
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestSwapRepairsAnInterruptedSwap(t *testing.T) {
	tree := Tree{Root: t.TempDir()}
	v1 := set(1, "10-a.yaml", "20-b.yaml")
	_, err := tree.Swap(v1)
	require.NoError(t, err)
	// Interrupted after the rename of ..data: a link missing, a stray set, a
	// stray temporary link.
	require.NoError(t, os.Remove(filepath.Join(tree.Root, "20-b.yaml")))
	require.NoError(t, os.Mkdir(filepath.Join(tree.Root, setPrefix+"stray"), 0o755))
	require.NoError(t, os.Symlink(setPrefix+"stray", filepath.Join(tree.Root, newLinkTmp)))
	changed, err := tree.Swap(v1)
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, asStrings(v1), falcoLoads(t, tree.Root))
	assert.NotContains(t, entries(t, tree.Root), setPrefix+"stray")

	_, err = tree.Swap(set(2, "10-a.yaml"))
	require.NoError(t, err)
	assert.Equal(t, []string{"..data", setPrefix + "*", "10-a.yaml"}, entries(t, tree.Root), "the temporary link is gone too")
}

func TestSwapRefuses(t *testing.T) {
	tree := Tree{Root: t.TempDir()}
	for _, name := range []string{"../escape.yaml", "sub/x.yaml", "..data", "..x.yaml", "notes.txt", ""} {
		_, err := tree.Swap(map[string][]byte{name: []byte("x")})
		assert.Error(t, err, name)
	}
	assert.Empty(t, entries(t, tree.Root), "nothing written for refused names")

	require.NoError(t, os.WriteFile(filepath.Join(tree.Root, "10-a.yaml"), []byte("someone else's"), 0o644))
	_, err := tree.Swap(set(1, "10-a.yaml"))
	assert.ErrorIs(t, err, ErrNotOurs)
	data, err := os.ReadFile(filepath.Join(tree.Root, "10-a.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "someone else's", string(data), "an entry the agent did not make is never replaced")

	other := Tree{Root: t.TempDir()}
	require.NoError(t, os.Symlink("/etc", filepath.Join(other.Root, dataLink)))
	_, err = other.Swap(set(1, "10-a.yaml"))
	assert.ErrorIs(t, err, ErrNotOurs, "a ..data pointing outside the tree is not followed")
}

// TestConcurrentReaderNeverSeesAMix swaps 200 times, with sets of one to
// three files, while a reader loops over Files: every read is one whole
// set, never a mix and never a part of one.
func TestConcurrentReaderNeverSeesAMix(t *testing.T) {
	tree := Tree{Root: t.TempDir()}
	names := []string{"10-a.yaml", "20-b.yaml", "30-c.yaml"}
	_, err := tree.Swap(set(0, names[:1]...))
	require.NoError(t, err)
	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			files, err := tree.Files()
			if !assert.NoError(t, err) {
				return
			}
			versions := map[string]bool{}
			for _, data := range files {
				versions[strings.Fields(string(data))[4]] = true
			}
			if !assert.Len(t, versions, 1, "a read saw files of several sets: %v", versions) {
				return
			}
			v := 0
			for k := range versions {
				_, _ = fmt.Sscan(k, &v)
			}
			if !assert.Len(t, files, 1+v%3, "set %d read in part", v) {
				return
			}
			reads.Add(1)
		}
	}()
	for v := 1; v <= 200; v++ {
		_, err := tree.Swap(set(v, names[:1+v%3]...))
		require.NoError(t, err)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d reads during 200 swaps, each one whole set", reads.Load())
	require.Positive(t, reads.Load())
	got, err := tree.Files()
	require.NoError(t, err)
	assert.Equal(t, set(200, names[:1+200%3]...), got)
	assert.True(t, slices.Equal([]string{"..data", setPrefix + "*", "10-a.yaml", "20-b.yaml", "30-c.yaml"}, entries(t, tree.Root)))
}
