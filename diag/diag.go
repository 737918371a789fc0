package diag

import (
	"fmt"
	"sort"
)

// Severity of a finding.
type Severity string

// Severities, most severe first.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Position is a place in a file. Line and Column count from 1 (Column in
// characters, not bytes); Line 0 means the file as a whole.
type Position struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// At is the position line:col in file.
func At(file string, line, col int) Position { return Position{File: file, Line: line, Column: col} }

// In returns p in file (positions of nodes know no file).
func (p Position) In(file string) Position {
	p.File = file
	return p
}

// String formats the position as file:line:col, or file when it names no line.
func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Before orders positions by file, line and column.
func (p Position) Before(q Position) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Column < q.Column
}

// Finding is one error, warning or note about an input file.
type Finding struct {
	// Code names the kind of finding: Falco's LOAD_ERR_*/LOAD_* names for
	// rules, FALCOPS_* for falcops' own checks. Empty for kinds that have
	// no code of their own (profile problems).
	Code     string   `json:"code,omitempty"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Position
	// Item names what the finding is about, e.g. "rule 'Terminal shell'".
	Item string `json:"item,omitempty"`
}

// Text is the message with the item it is about: message (item).
func (f Finding) Text() string {
	if f.Item == "" {
		return f.Message
	}
	return f.Message + " (" + f.Item + ")"
}

// String formats the finding as path:line:col: severity: message [code].
func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s: %s", f.Position, f.Severity, f.Text())
	if f.Code != "" {
		s += " [" + f.Code + "]"
	}
	return s
}

// Findings is a list of findings.
type Findings []Finding

// Add appends a finding.
func (fs *Findings) Add(code string, sev Severity, at Position, format string, args ...any) {
	*fs = append(*fs, Finding{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...), Position: at})
}

// Errors counts the findings of severity error.
func (fs Findings) Errors() int { return fs.count(Error) }

// Warnings counts the findings of severity warning.
func (fs Findings) Warnings() int { return fs.count(Warning) }

func (fs Findings) count(s Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Sort orders findings by file, line, column and code, keeping the order
// of findings at the same place.
func (fs Findings) Sort() {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Position != b.Position {
			return a.Before(b.Position)
		}
		return a.Code < b.Code
	})
}

// Error makes a list of findings an error: one finding per line.
func (fs Findings) Error() string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += "\n"
		}
		s += f.String()
	}
	return s
}
