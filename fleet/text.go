package fleet

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the summary for a terminal: one section per part, in
// aligned columns.
func (s Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("shoots: %d (%d up to date)\n", s.Shoots, s.UpToDate)
	p("\nFalco versions\n")
	for _, c := range s.FalcoVersions {
		p("  %s\t%d\t%s\n", orNone(c.Value), c.Shoots, lifecycleOf(c))
	}
	p("\nrulesets\n")
	for _, r := range s.Rulesets {
		var parts []string
		for _, c := range r.Versions {
			parts = append(parts, fmt.Sprintf("%s: %d", orNone(c.Value), c.Shoots))
		}
		p("  %s\t%s\n", r.Name, strings.Join(parts, ", "))
	}
	p("\nwaves\n")
	for _, wv := range s.Waves {
		state := "waiting"
		switch {
		case wv.Current:
			state = "current"
		case wv.Open:
			state = "open"
		case wv.OpensAt != nil:
			state = "opens " + wv.OpensAt.UTC().Format(time.RFC3339)
		}
		p("  %s/%s\t%s\t%d/%d up to date\t%d failed\n", wv.Policy, wv.Name, state, wv.UpToDate, wv.Shoots, wv.Failed)
	}
	for _, part := range []struct {
		title  string
		groups []Group
	}{{"blocked", s.Blocked}, {"waiting", s.Waiting}} {
		p("\n%s\n", part.title)
		for _, g := range part.groups {
			p("  %s\t%d\t%s\t(%s)\n", g.Reason, g.Shoots, g.Message, strings.Join(g.Examples, ", "))
		}
	}
	p("\nrule sources\n")
	for _, src := range s.Sources {
		line := fmt.Sprintf("  %s\t%s:%s\tlatest %s\tready %s", src.Name, src.Ruleset, src.Follow, orNone(src.Latest), src.Ready)
		if src.Message != "" {
			line += ": " + src.Message
		}
		if src.Rejected != nil {
			line += fmt.Sprintf("\trejected %s (%s): %s", src.Rejected.Digest, src.Rejected.Reason, src.Rejected.Message)
		}
		p("%s\n", line)
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// lifecycleOf is a Falco version's classification and expiry, "" when no
// profile lists it.
func lifecycleOf(c Count) string {
	switch {
	case c.ExpirationDate != "":
		return c.Classification + ", expires " + c.ExpirationDate
	case c.Classification == "" && c.Value != "":
		return "not in the profile"
	}
	return c.Classification
}
