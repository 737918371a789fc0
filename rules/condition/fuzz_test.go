package condition

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/internal/sharedtest"
)

// corpusConditions extracts the condition of every macro and rule of the
// upstream rules files, deduplicated and sorted.
func corpusConditions(t testing.TB, dir string) []string {
	t.Helper()
	set := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var items []map[string]any
		require.NoError(t, yaml.Unmarshal(data, &items), path)
		for _, it := range items {
			_, isMacro := it["macro"]
			_, isRule := it["rule"]
			if c, ok := it["condition"].(string); ok && (isMacro || isRule) {
				set[c] = true
			}
		}
		return nil
	})
	require.NoError(t, err, "reading %s", dir)
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// checkRoundTrip checks that a condition that parses prints to a condition
// that parses to an equal tree, and that printing is stable.
func checkRoundTrip(t *testing.T, s string) {
	e, err := Parse(s)
	if err != nil {
		var pe *Error
		require.ErrorAs(t, err, &pe, "Parse(%q): error of type %T", s, err)
		require.True(t, pe.Offset >= 0 && pe.Offset <= len(s), "Parse(%q): error offset %d out of range", s, pe.Offset)
		return
	}
	checkOffsets(t, s, e)
	printed := String(e)
	e2, err := Parse(printed)
	require.NoError(t, err, "Parse(%q) succeeded, but its print %q does not parse", s, printed)
	require.True(t, Equal(e, e2), "Parse(%q) printed as %q parses to a different tree (reprinted %q)", s, printed, String(e2))
	require.Equal(t, printed, String(e2), "printing of %q is not stable", s)
}

func checkOffsets(t *testing.T, s string, e Expr) {
	Walk(e, func(n Expr) bool {
		require.True(t, n.Pos() >= 0 && n.Pos() <= len(s), "Parse(%q): node %T at offset %d out of range", s, n, n.Pos())
		return true
	})
}

func FuzzParse(f *testing.F) {
	if dir, ok := sharedtest.UpstreamRulesIfPresent(f); ok {
		for _, c := range corpusConditions(f, dir) {
			f.Add(c)
		}
	}
	for _, s := range []string{
		"evt.type in (open,openat) and not proc.name=bash",
		"spawned_process and container and proc.aname[2] in (a, b) or fd.name startswith /etc",
		"not (a and b) and not not c",
		"tolower(proc.name) = bash and proc.name != val(proc.pname) and len(proc.args) > 3",
		"proc.name startswith oneof (sh, bash) and proc.env[HOME] = \"/root dir\"",
		"evt.arg.flags contains O_CREAT and fd.num>=0x10 and evt.rawres < -1",
		"join(',', (proc.name, proc.pname)) = x",
		`proc.name = "a\"b" or proc.name = 'c\'d' or proc.name = "\x41\\"`,
		"proc.name exists and not(proc.pname exists)or(a)",
		"evt.type=open and proc.name in ()",
		"getopt(proc.args, 'f:')[f] = x and concat(proc.name, '-', 1) = y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkRoundTrip(t, s)
	})
}

// TestCorpusRoundTrip runs the round-trip property on every upstream
// condition without fuzzing.
func TestCorpusRoundTrip(t *testing.T) {
	conds := corpusConditions(t, sharedtest.UpstreamRules(t))
	require.NotEmpty(t, conds, "no conditions found in the upstream rules")
	for _, c := range conds {
		if _, err := Parse(c); !assert.NoError(t, err, "upstream condition does not parse: %q", c) {
			continue
		}
		checkRoundTrip(t, c)
	}
}
