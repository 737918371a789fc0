package condition

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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
		if err := yaml.Unmarshal(data, &items); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, it := range items {
			_, isMacro := it["macro"]
			_, isRule := it["rule"]
			if c, ok := it["condition"].(string); ok && (isMacro || isRule) {
				set[c] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
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
		if !errors.As(err, &pe) {
			t.Fatalf("Parse(%q): error of type %T", s, err)
		}
		if pe.Offset < 0 || pe.Offset > len(s) {
			t.Fatalf("Parse(%q): error offset %d out of range", s, pe.Offset)
		}
		return
	}
	checkOffsets(t, s, e)
	printed := String(e)
	e2, err := Parse(printed)
	if err != nil {
		t.Fatalf("Parse(%q) succeeded, but its print %q does not parse: %v", s, printed, err)
	}
	if !Equal(e, e2) {
		t.Fatalf("Parse(%q) printed as %q parses to a different tree (reprinted %q)", s, printed, String(e2))
	}
	if again := String(e2); again != printed {
		t.Fatalf("printing is not stable: %q -> %q -> %q", s, printed, again)
	}
}

func checkOffsets(t *testing.T, s string, e Expr) {
	Walk(e, func(n Expr) bool {
		if n.Pos() < 0 || n.Pos() > len(s) {
			t.Fatalf("Parse(%q): node %T at offset %d out of range", s, n, n.Pos())
		}
		return true
	})
}

func FuzzParse(f *testing.F) {
	if dir, ok := sharedDirIfPresent(f); ok {
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
	conds := corpusConditions(t, sharedDir(t))
	if len(conds) == 0 {
		t.Fatal("no conditions found in the upstream rules")
	}
	for _, c := range conds {
		if _, err := Parse(c); err != nil {
			t.Errorf("upstream condition does not parse: %q: %v", c, err)
			continue
		}
		checkRoundTrip(t, c)
	}
}
