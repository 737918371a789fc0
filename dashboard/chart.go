package dashboard

import (
	"github.com/falcops/falcops/fleet"
)

// Chart is a horizontal bar chart, drawn as SVG by the page template.
type Chart struct {
	// ID names the chart for scripts and tests (data-chart).
	ID, Title string
	Total     int
	Bars      []Bar
}

// Bar is one value of a chart; Width is its length in SVG units, the
// longest bar filling barSpace.
type Bar struct {
	Label string
	Count int
	Width float64
	// Y is the bar's row offset in the SVG.
	Y int
	// Lifecycle is a Falco version's classification ("removed" when no
	// profile lists it), and Expires its expiration date; both "" for
	// ruleset versions.
	Lifecycle, Expires string
}

// Chart geometry in SVG user units.
const (
	barHeight = 22
	barGap    = 6
	barSpace  = 260 // between the label column and the count
)

// Height is the SVG height of the chart.
func (c Chart) Height() int { return max(1, len(c.Bars)) * (barHeight + barGap) }

func newChart(id, title string, counts []fleet.Count) Chart {
	c := Chart{ID: id, Title: title}
	top := 0
	for _, n := range counts {
		top = max(top, n.Shoots)
		c.Total += n.Shoots
	}
	for i, n := range counts {
		label := n.Value
		if label == "" {
			label = "none"
		}
		c.Bars = append(c.Bars, Bar{Label: label, Count: n.Shoots, Width: barSpace * float64(n.Shoots) / float64(max(top, 1)), Y: i * (barHeight + barGap),
			Lifecycle: n.Classification, Expires: n.ExpirationDate})
	}
	return c
}

// charts are the Falco version chart and one per ruleset.
func charts(s fleet.Summary) []Chart {
	falco := newChart("falco", "Falco versions", s.FalcoVersions)
	for i, b := range falco.Bars {
		if b.Lifecycle == "" && b.Label != "none" {
			falco.Bars[i].Lifecycle = "removed"
		}
	}
	out := []Chart{falco}
	for _, r := range s.Rulesets {
		out = append(out, newChart("ruleset-"+r.Name, "Ruleset "+r.Name, r.Versions))
	}
	return out
}
