package gate

import (
	"fmt"
	"io"
	"strings"
)

var statusIcon = map[Status]string{
	StatusPass: "✅", StatusFail: "❌", StatusNew: "🆕", StatusDeleted: "🗑️", StatusRenamed: "🔀", StatusUnchanged: "➖",
}

// WriteText prints one verdict line per ruleset and the changes below it.
func (r *Result) WriteText(w io.Writer) error {
	for _, v := range r.Verdicts {
		if v.Status == StatusUnchanged {
			continue
		}
		fmt.Fprintf(w, "%s %s: %s\n", strings.ToUpper(string(v.Status)), v.Ruleset, v.Reason)
		for _, f := range v.Findings {
			fmt.Fprintf(w, "  %s\n", f.String())
		}
		if v.Report != nil {
			for _, c := range v.Report.Changes {
				fmt.Fprintf(w, "  %s %s %q %s: %s (line %d)\n", c.Bump, c.Kind, c.Name, c.Change, c.Reason, c.Line)
			}
		}
	}
	verdict := "passed"
	if !r.Passed() {
		verdict = "failed"
	}
	_, err := fmt.Fprintf(w, "gate %s against %s (%s)\n", verdict, r.Base, short(r.Commit))
	return err
}

// WriteMarkdown renders the result for a pull-request comment.
func (r *Result) WriteMarkdown(w io.Writer) error {
	verdict := "✅ **falcops gate passed**"
	if !r.Passed() {
		verdict = "❌ **falcops gate failed**"
	}
	fmt.Fprintf(w, "%s against `%s` (`%s`)\n\n", verdict, r.Base, short(r.Commit))
	shown := 0
	for _, v := range r.Verdicts {
		if v.Status == StatusUnchanged {
			continue
		}
		shown++
		versions := v.NewVersion
		if v.OldVersion != "" && v.NewVersion != "" && v.OldVersion != v.NewVersion {
			versions = v.OldVersion + " → " + v.NewVersion
		} else if v.NewVersion == "" {
			versions = v.OldVersion
		}
		fmt.Fprintf(w, "### %s `%s` %s\n\n%s\n\n", statusIcon[v.Status], v.Ruleset, versions, mdEscape(v.Reason))
		for _, f := range v.Findings {
			fmt.Fprintf(w, "- `%s:%d:%d` %s %s\n", f.File, f.Line, f.Column, f.Code, mdEscape(f.Message))
		}
		if v.Report != nil && len(v.Report.Changes) > 0 {
			fmt.Fprintf(w, "| bump | kind | name | change | reason | line |\n|---|---|---|---|---|---|\n")
			for _, c := range v.Report.Changes {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d |\n", c.Bump, c.Kind, mdEscape(c.Name), c.Change, mdEscape(c.Reason), c.Line)
			}
			fmt.Fprintln(w)
		}
	}
	if shown == 0 {
		fmt.Fprintln(w, "No ruleset changed.")
	}
	return nil
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
