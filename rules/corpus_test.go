package rules

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules/condition"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// corpusFile is one upstream rules release file.
type corpusFile struct {
	folder string // release tag, e.g. falco-rules-5.1.0
	path   string
	final  bool // not a pre-release (-rcN)
}

// corpus lists the upstream release files, sorted by folder. It skips the
// test when the shared folder is absent (see package sharedtest).
func corpus(t testing.TB) []corpusFile {
	t.Helper()
	dir := sharedtest.UpstreamRules(t)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []corpusFile
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.yaml"))
		require.NoError(t, err)
		require.Len(t, files, 1, "%s: rules files", e.Name())
		out = append(out, corpusFile{folder: e.Name(), path: files[0], final: !strings.Contains(e.Name(), "-rc")})
	}
	require.NotEmpty(t, out, "%s holds no release folders", dir)
	sort.Slice(out, func(i, j int) bool { return out[i].folder < out[j].folder })
	return out
}

func readCorpusFile(t testing.TB, f corpusFile) *Source {
	t.Helper()
	src, err := ReadSource(f.path)
	require.NoError(t, err)
	return src
}

// corpusWarningKinds explains, for every warning code the upstream files get,
// why Falco emits the same warning for them. The test fails on a code missing
// here, so a new kind has to be checked against Falco before it is accepted.
var corpusWarningKinds = map[string]string{
	// Falco >= 0.42 (engine 0.57.0) dropped enter events and deprecated
	// evt.dir and the latency fields. falco userspace/engine/
	// filter_warning_resolver.cpp (run on every rule's macro-expanded
	// condition) adds LOAD_DEPRECATED_ITEM for each deprecated field the
	// condition uses, and rule_loader_compiler.cpp
	// check_deprecated_fields_in_output does the same for outputs. Files up
	// to falco-rules-4.0.0 / incubating-5.0.1 / sandbox-5.0.1 still test
	// evt.dir (e.g. spawned_process "evt.dir=<"), so Falco 0.44 warns on
	// them. Falco reports one warning per rule and field at the rule's
	// condition; falcops reports each use once, at the field in the macro or
	// rule that contains it, so counts and positions differ but the files and
	// the kind are the same. Since Falco 0.41 (engine 0.50.0)
	// rule_loader_compiler.cpp compile_rule_infos also warns
	// LOAD_DEPRECATED_ITEM "%container.info is deprecated ..." for every
	// rule whose output contains %container.info, once per rule at the rule
	// as falcops does (falco-rules 0.1.0-3.2.0, incubating 2.0.0-4.0.1,
	// sandbox 2.0.0-4.1.0). Neither applies at the engines the files
	// declare (all below 0.57.0 while they still use evt.dir, below 0.50.0
	// while they use %container.info), so the first golden has none.
	WarnDeprecatedItem: "deprecated evt.dir in conditions (Falco >= 0.42) or %container.info in outputs (Falco >= 0.41)",
}

// corpusWarnings renders the warnings of one file as golden lines.
func corpusWarnings(t *testing.T, f corpusFile, rs *Ruleset) []string {
	t.Helper()
	var lines []string
	for _, fd := range rs.Findings {
		if !assert.NotEqual(t, diag.Error, fd.Severity, "%s (engine %s): %s", f.folder, rs.Engine, fd) {
			continue
		}
		assert.Contains(t, corpusWarningKinds, fd.Code,
			"%s (engine %s): warning kind %s is not explained in corpusWarningKinds; check that Falco emits it: %s", f.folder, rs.Engine, fd.Code, fd)
		msg := fd.Message
		if fd.Item != "" {
			msg += " (" + fd.Item + ")"
		}
		lines = append(lines, fmt.Sprintf("%s: %s %d:%d %s", f.folder, fd.Code, fd.Line, fd.Column, msg))
	}
	if len(lines) == 0 {
		lines = append(lines, f.folder+": no warnings")
	}
	return lines
}

// TestCorpusValidates loads every final upstream release file on its own, as
// upstream CI does, for the engine version it declares and for engine 0.62.0
// (Falco 0.44, the latest release). Neither may give an error; the warnings
// are compared with golden files (go test ./rules/ -run TestCorpusValidates
// -update rewrites them).
func TestCorpusValidates(t *testing.T) {
	files := corpus(t)
	var declared, latest []string
	n := 0
	for _, f := range files {
		if !f.final {
			continue
		}
		n++
		src := readCorpusFile(t, f)

		rs := Load([]*Source{src}, Options{})
		assert.False(t, rs.RequiredEngine.IsZero(), "%s declares no required_engine_version", f.folder)
		assert.Equal(t, rs.RequiredEngine, rs.Engine, "%s: validated for another engine than it declares", f.folder)
		assert.NotEmpty(t, rs.Rules, "%s: no rules loaded", f.folder)
		declared = append(declared, corpusWarnings(t, f, rs)...)

		rs = Load([]*Source{src}, Options{Engine: Engine044})
		assert.Equal(t, Engine044, rs.Engine, "%s: validated engine", f.folder)
		latest = append(latest, corpusWarnings(t, f, rs)...)
	}
	t.Logf("%d final release files validated", n)
	checkCorpusGolden(t, "testdata/corpus_warnings.golden",
		"# Warnings of each final upstream release file, loaded for the engine version it declares.", declared)
	checkCorpusGolden(t, "testdata/corpus_warnings_0.62.0.golden",
		"# Warnings of each final upstream release file, loaded for engine 0.62.0 (Falco 0.44).", latest)
}

// TestCorpusPrereleases checks that the -rc files load without errors too.
func TestCorpusPrereleases(t *testing.T) {
	for _, f := range corpus(t) {
		if f.final {
			continue
		}
		src := readCorpusFile(t, f)
		for _, engine := range []Version{{}, Engine044} {
			rs := Load([]*Source{src}, Options{Engine: engine})
			for _, fd := range rs.Findings {
				assert.NotEqual(t, diag.Error, fd.Severity, "%s (engine %s): %s", f.folder, rs.Engine, fd)
			}
		}
	}
}

func checkCorpusGolden(t *testing.T, path, header string, lines []string) {
	t.Helper()
	got := header + "\n# Format: folder: CODE line:col message (item). Regenerate: go test ./rules/ -run TestCorpusValidates -update\n" +
		strings.Join(lines, "\n") + "\n"
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	if string(want) == got {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		require.Equal(t, w, g, "%s differs at line %d (%d lines, golden has %d; run with -update if the change is intended)",
			path, i+1, len(gl), len(wl))
	}
}

// roundTrip parses s, prints the tree and parses the result again; the two
// trees must be equal.
func corpusRoundTrip(t *testing.T, where, s string) bool {
	t.Helper()
	e, err := condition.Parse(s)
	if !assert.NoError(t, err, "%s:\n%s", where, s) {
		return false
	}
	return corpusRoundTripExpr(t, where, e)
}

func corpusRoundTripExpr(t *testing.T, where string, e condition.Expr) bool {
	t.Helper()
	printed := condition.String(e)
	e2, err := condition.Parse(printed)
	if !assert.NoError(t, err, "%s: printed form does not parse:\n%s", where, printed) {
		return false
	}
	if !assert.True(t, condition.Equal(e, e2), "%s: printed form parses to a different tree:\n%s", where, printed) {
		return false
	}
	assert.Equal(t, printed, condition.String(e2), "%s: printing is not stable", where)
	return true
}

// TestCorpusRoundTrip checks the condition printer on every macro and rule
// condition of every release file (pre-releases included), and on every
// rule's compiled tree with macros expanded.
func TestCorpusRoundTrip(t *testing.T) {
	var macros, rules, expanded int
	for _, f := range corpus(t) {
		rs := Load([]*Source{readCorpusFile(t, f)}, Options{})
		for _, m := range rs.Macros {
			if corpusRoundTrip(t, f.folder+": macro "+m.Name, m.Condition.Value) {
				macros++
			}
		}
		for _, r := range rs.Rules {
			if corpusRoundTrip(t, f.folder+": rule "+r.Name, r.Condition.Value) {
				rules++
			}
			e := rs.Expand(r)
			if !assert.NotNil(t, e, "%s: rule %s has no compiled condition", f.folder, r.Name) {
				continue
			}
			if corpusRoundTripExpr(t, f.folder+": expanded rule "+r.Name, e) {
				expanded++
			}
		}
	}
	t.Logf("round-tripped %d macro conditions, %d rule conditions and %d expanded rule trees", macros, rules, expanded)
	assert.Positive(t, macros, "macros")
	assert.Positive(t, rules, "rules")
	assert.Equal(t, rules, expanded, "expanded rules")
}

// TestCorpusPositions checks item positions against the file text: the line
// and column of "rule:", "macro:" or "list:" in "- rule: <name>".
func TestCorpusPositions(t *testing.T) {
	var file corpusFile
	for _, f := range corpus(t) {
		if f.folder == "falco-rules-5.1.0" {
			file = f
		}
	}
	if file.path == "" {
		t.Skip("falco-rules-5.1.0 is not in the shared corpus")
	}
	src := readCorpusFile(t, file)
	rs := Load([]*Source{src}, Options{})

	// where finds "- <kind>: <name>" in the text, as line and column of the key.
	where := func(kind, name string) (diag.Position, bool) {
		sc := bufio.NewScanner(bytes.NewReader(src.Data))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimRight(sc.Text(), " \r")
			trimmed := strings.TrimLeft(text, " ")
			if trimmed == "- "+kind+": "+name {
				return diag.At(src.Name, line, len(text)-len(trimmed)+3), true
			}
		}
		return diag.Position{}, false
	}
	check := func(kind, name string, at diag.Position) {
		t.Helper()
		want, ok := where(kind, name)
		require.True(t, ok, "%s %q not found in %s", kind, name, file.path)
		assert.Equal(t, want, at, "%s %q", kind, name)
	}
	for _, name := range []string{
		"Directory traversal monitored file read", // the first rule
		"Read sensitive file untrusted",
		"Terminal shell in container",
		"Drop and execute new binary in container",
		"Fileless execution via memfd_create",
		rs.Rules[len(rs.Rules)-1].Name, // the last rule
	} {
		r := rs.Rule(name)
		if !assert.NotNil(t, r, "rule %q not loaded", name) {
			continue
		}
		check("rule", name, r.At)
	}
	for _, name := range []string{"spawned_process", "open_read", "container", rs.Macros[len(rs.Macros)-1].Name} {
		m := rs.Macro(name)
		if !assert.NotNil(t, m, "macro %q not loaded", name) {
			continue
		}
		check("macro", name, m.At)
	}
	for _, name := range []string{"shell_binaries", rs.Lists[0].Name} {
		l := rs.List(name)
		if !assert.NotNil(t, l, "list %q not loaded", name) {
			continue
		}
		check("list", name, l.At)
	}
}
