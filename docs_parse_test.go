package falcops_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docLine is one line of a fenced block that the docs test acts on: a
// command it runs, a synopsis it checks against --help, or a YAML document it
// applies with a server-side dry run.
type docLine struct {
	file string
	line int
	kind docKind
	text string
	// notRun is the reason a `# not run: reason` marker gives.
	notRun string
	// output is the text a transcript shows after a `$ command` line.
	output []string
}

type docKind int

const (
	docCommand docKind = iota
	docSynopsis
	docManifest
)

var (
	fence         = regexp.MustCompile("^\\s*```\\s*(\\S*)")
	notRunMarker  = regexp.MustCompile(`#.*\bnot run:\s*(.+)$`)
	commandPrefix = regexp.MustCompile(`^(go run \./cmd/falcops|falcops|kubectl|make|KUBEBUILDER_ASSETS=)\b`)
	// A placeholder word (FILE, VERSION, X.Y.Z), an alternative (a|b) or
	// an optional part ([--flag]) makes a line a synopsis, not a command.
	placeholder = regexp.MustCompile(`\[|\.\.\.|\b[A-Z]{2,}\b|\bX\.Y\.Z\b|\S\|\S`)
)

// parseDoc returns the lines of path's fenced blocks the docs test acts on.
// In ```sh blocks every line that is not a comment is a command; in blocks
// without a language, `$ command` lines (a transcript: the lines after are
// its output) and lines starting with `falcops ` are; ```yaml blocks with a
// kind are manifests.
func parseDoc(path string) ([]docLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var (
		out     []docLine
		lang    string
		inBlock bool
		pending string // a not-run reason on a comment line, for the next command
		// transcript: the last command is a `$ command` whose output lines follow
		transcript bool
		yamlDoc    []string
		yamlAt     int
		n          int
	)
	flushYAML := func() {
		body := strings.Join(yamlDoc, "\n")
		if regexp.MustCompile(`(?m)^kind: `).MatchString(body) && regexp.MustCompile(`(?m)^apiVersion: `).MatchString(body) {
			out = append(out, docLine{file: path, line: yamlAt, kind: docManifest, text: body})
		}
		yamlDoc = nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		raw := sc.Text()
		if m := fence.FindStringSubmatch(raw); m != nil {
			if inBlock && lang == "yaml" {
				flushYAML()
			}
			inBlock, lang, pending, transcript = !inBlock, m[1], "", false
			yamlAt = n + 1
			continue
		}
		if !inBlock {
			continue
		}
		line := strings.TrimSpace(raw)
		switch lang {
		case "yaml":
			yamlDoc = append(yamlDoc, raw)
		case "sh", "bash":
			for strings.HasSuffix(line, `\`) && sc.Scan() {
				n++
				line = strings.TrimSuffix(line, `\`) + " " + strings.TrimSpace(sc.Text())
			}
			out, pending = addCommand(out, path, n, line, pending, inShell)
		case "":
			if cmd, ok := strings.CutPrefix(line, "$ "); ok {
				out, pending = addCommand(out, path, n, cmd, pending, inTranscript)
				transcript = true
			} else if transcript && line != "" {
				last := &out[len(out)-1]
				last.output = append(last.output, raw)
			} else if strings.HasPrefix(line, "falcops ") {
				out, pending = addCommand(out, path, n, line, pending, inText)
			}
		}
	}
	return out, sc.Err()
}

// Where a command line stands decides how it is read.
const (
	inShell      = iota // a ```sh block: always a command
	inTranscript        // `$ command` in a text block: output follows
	inText              // `falcops ...` in a text block: a synopsis when it has placeholders
)

// addCommand appends line as a command or synopsis, or remembers the reason
// of a comment-only `# not run:` line for the next command.
func addCommand(out []docLine, path string, n int, line, pending string, where int) ([]docLine, string) {
	if line == "" {
		return out, pending
	}
	if strings.HasPrefix(line, "#") {
		if m := notRunMarker.FindStringSubmatch(line); m != nil {
			return out, m[1]
		}
		return out, pending
	}
	d := docLine{file: path, line: n, kind: docCommand, text: line, notRun: pending}
	if m := notRunMarker.FindStringSubmatch(line); m != nil {
		d.notRun = m[1]
	}
	if !commandPrefix.MatchString(line) && d.notRun == "" {
		return out, ""
	}
	if where == inTranscript {
		d.output = []string{}
	}
	if where == inText && placeholder.MatchString(stripComment(line)) {
		d.kind = docSynopsis
	}
	return append(out, d), ""
}

// stripComment drops a trailing shell comment (outside quotes).
func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' '):
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}

func TestParseDoc(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "guide.md")
	require.NoError(t, os.WriteFile(doc, []byte("Text `falcops validate` is prose.\n"+
		"```sh\n# a comment\nfalcops validate . # trailing comment\nmake run   # docs test, not run: serves forever\nfalcops publish \\\n  --key k\n```\n"+
		"```\nfalcops diff OLD NEW [-o text|json]\nfalcops test --run 'a b'\nrulesets/<name>/ruleset.yaml\n$ falcops test\nok 1\n```\n"+
		"after\n```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n```\n```yaml\nname: not-a-kube-object\n```\n"), 0o644))
	got, err := parseDoc(doc)
	require.NoError(t, err)
	type row struct {
		Line           int
		Kind           docKind
		Text, NotRun   string
		TranscriptRows []string
	}
	var rows []row
	for _, l := range got {
		rows = append(rows, row{l.line, l.kind, l.text, l.notRun, l.output})
	}
	assert.Equal(t, []row{
		{4, docCommand, "falcops validate . # trailing comment", "", nil},
		{5, docCommand, "make run   # docs test, not run: serves forever", "serves forever", nil},
		{7, docCommand, "falcops publish  --key k", "", nil},
		{10, docSynopsis, "falcops diff OLD NEW [-o text|json]", "", nil},
		{11, docCommand, "falcops test --run 'a b'", "", nil},
		{13, docCommand, "falcops test", "", []string{"ok 1"}},
		{18, docManifest, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}", "", nil},
	}, rows)
	assert.Equal(t, "falcops test --run 'a # b'", stripComment("falcops test --run 'a # b' # comment"))
}

// TestDocsLinks: every relative link in the docs names a file of this
// repository that exists; none leaves the repository.
func TestDocsLinks(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	checked := 0
	for _, pattern := range documents {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, m := range link.FindAllStringSubmatch(string(data), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				p := filepath.Join(root, filepath.Dir(f), target)
				rel, err := filepath.Rel(root, p)
				require.NoError(t, err)
				assert.False(t, strings.HasPrefix(rel, ".."), "%s links to %s, outside the repository", f, target)
				_, err = os.Stat(p)
				assert.NoError(t, err, "%s links to %s, which does not exist", f, target)
				checked++
			}
		}
	}
	require.Positive(t, checked)
}
