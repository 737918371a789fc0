package rules

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

// FuzzLoad loads arbitrary bytes as a rules file: the loader must not panic
// and every finding must have a position, a code and a known severity.
func FuzzLoad(f *testing.F) {
	if dir, ok := sharedtest.UpstreamRulesIfPresent(f); ok {
		seen := map[string]bool{}
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f.Add(data)
			for _, item := range splitItems(data) {
				if !seen[item] {
					seen[item] = true
					f.Add([]byte(item))
				}
			}
			return nil
		})
		require.NoError(f, err, "reading %s", dir)
	} else {
		for _, s := range []string{
			"- required_engine_version: 0.31.0\n",
			"- list: l\n  items: [a, b]\n- macro: m\n  condition: proc.name in (l)\n",
			"- rule: r\n  desc: d\n  condition: evt.type = open and m\n  output: \"%proc.name\"\n  priority: WARNING\n",
		} {
			f.Add([]byte(s))
		}
	}
	for _, s := range nastyInputs(f) {
		if len(s) < 4096 {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs := LoadBytes("fuzz.yaml", data, Options{})
		checkFindings(t, "fuzz", rs)
		for _, fd := range rs.Findings {
			assert.Equal(t, "fuzz.yaml", fd.File, "finding in unexpected file: %s", fd)
		}
		// Ruleset.Expand is not called: a chain of macros each using the
		// previous one twice legitimately expands exponentially.
	})
}

// splitItems cuts a rules file into its top-level items (with the comments
// before them), so that the fuzzer also has small, fast seeds: whole upstream
// files take long to run and to minimize.
func splitItems(data []byte) []string {
	var items []string
	lines := strings.SplitAfter(string(data), "\n")
	start := 0
	for i, ln := range lines {
		if i > start && strings.HasPrefix(ln, "- ") {
			items = append(items, strings.Join(lines[start:i], ""))
			start = i
		}
	}
	items = append(items, strings.Join(lines[start:], ""))
	out := items[:0]
	for _, it := range items {
		if len(it) < 4096 && strings.Contains(it, "- ") {
			out = append(out, it)
		}
	}
	return out
}
