package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// summary is "3 changes: 1 major, 2 patch".
func (r Report) summary() string {
	counts := r.Counts()
	var parts []string
	for b := Major; b >= None; b-- {
		if counts[b] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[b], b))
		}
	}
	n := len(r.Changes)
	s := fmt.Sprintf("%d %s", n, plural(n, "change"))
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// WriteText prints one line per change, path:line: bump: kind "name"
// change: reason, and a last line with the required bump.
func (r Report) WriteText(w io.Writer) error {
	for _, c := range r.Changes {
		loc := c.File
		if c.Line > 0 {
			loc += fmt.Sprintf(":%d", c.Line)
		}
		if loc != "" {
			loc += ": "
		}
		if _, err := fmt.Fprintf(w, "%s%s: %s %q %s: %s\n", loc, c.Bump, c.Kind, c.Name, c.Change, c.Reason); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "required bump: %s (%s)\n", r.RequiredBump, r.summary())
	return err
}

// WriteJSON prints {"required_bump": ..., "changes": [...]}, indented.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var bumpIcon = map[Bump]string{None: "⚪", Patch: "🟢", Minor: "🟡", Major: "🔴"}

// MarkdownRows bounds the table of WriteMarkdown: GitHub refuses comments
// over 65536 characters, and a ruleset split or rewrite can have hundreds of
// changes. The rows left out are counted below the table.
const MarkdownRows = 150

// WriteMarkdown renders the report for a pull-request comment: a verdict
// line and a table of the changes, those that need the highest bumps first
// (at most MarkdownRows).
func (r Report) WriteMarkdown(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "%s **Required bump: %s** (%s)\n", bumpIcon[r.RequiredBump], r.RequiredBump, r.summary()); err != nil {
		return err
	}
	if len(r.Changes) == 0 {
		_, err := fmt.Fprintln(w, "\nNo semantic changes.")
		return err
	}
	fmt.Fprint(w, "\n| bump | kind | name | change | reason | line |\n|---|---|---|---|---|---|\n")
	rows := append([]Change(nil), r.Changes...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Bump > rows[j].Bump })
	if len(rows) > MarkdownRows {
		rows = rows[:MarkdownRows]
	}
	for _, c := range rows {
		line := ""
		if c.Line > 0 {
			line = fmt.Sprint(c.Line)
		}
		if _, err := fmt.Fprintf(w, "| %s %s | %s | %s | %s | %s | %s |\n", bumpIcon[c.Bump], c.Bump, c.Kind,
			mdEscape(c.Name), c.Change, mdEscape(c.Reason), line); err != nil {
			return err
		}
	}
	if left := len(r.Changes) - len(rows); left > 0 {
		_, err := fmt.Fprintf(w, "\n%d more %s not shown; run `falcops diff` for all of them.\n", left, plural(left, "change"))
		return err
	}
	return nil
}

// mdEscape keeps a value inside one table cell: pipes are escaped everywhere
// (GitHub's table parser honours that inside code spans too), line breaks
// become blanks, and < and > outside code spans become entities so that a
// value such as <NA> is not read as HTML. Inside code spans they stay, as
// entities are not decoded there.
func mdEscape(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
	parts := strings.Split(s, "`")
	html := strings.NewReplacer("<", "&lt;", ">", "&gt;")
	if len(parts)%2 == 0 { // an unmatched backquote: no code spans
		return html.Replace(s)
	}
	for i := 0; i < len(parts); i += 2 {
		parts[i] = html.Replace(parts[i])
	}
	return strings.Join(parts, "`")
}
