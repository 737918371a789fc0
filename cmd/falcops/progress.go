package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/falcops/falcops/publish"
)

// slowStep is how long a step may take before the progress names it slow.
var slowStep = 5 * time.Second

// progress shows a release as it goes, on stderr: on a terminal one line
// with a bar that is rewritten in place, otherwise one plain line per step.
// Results still go to stdout, one line each, as before.
type progress struct {
	w        io.Writer
	terminal bool
	total    int
	done     int
	last     string
}

func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, terminal: ok && term.IsTerminal(int(f.Fd())), total: total}
}

// step reports a step of a release.
func (p *progress) step(s publish.Step) {
	what := fmt.Sprintf("%s %s: %s", s.Name, s.Version, s.What)
	if s.Done {
		if s.Took >= slowStep {
			p.clear()
			fmt.Fprintf(p.w, "%s took %s (slow)\n", what, s.Took.Round(100*time.Millisecond))
		}
		return
	}
	if !p.terminal {
		fmt.Fprintf(p.w, "[%d/%d] %s\n", p.done+1, p.total, what)
		return
	}
	const width = 20
	filled := width * p.done / max(p.total, 1)
	line := fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.done, p.total, what)
	p.clear()
	fmt.Fprint(p.w, line)
	p.last = line
}

// result counts a finished artifact and prints its line to out.
func (p *progress) result(out io.Writer, r publish.Result) {
	p.done++
	p.clear()
	fmt.Fprintln(out, r.String())
}

// clear removes the live line from a terminal.
func (p *progress) clear() {
	if p.terminal && p.last != "" {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", len(p.last))+"\r")
		p.last = ""
	}
}
