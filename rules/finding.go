package rules

import (
	"fmt"
	"sort"
)

// Severity of a finding.
type Severity string

// Severities, in decreasing order of importance.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Error codes: Falco's LOAD_ERR_* names.
const (
	ErrFileRead         = "LOAD_ERR_FILE_READ"
	ErrYAMLParse        = "LOAD_ERR_YAML_PARSE"
	ErrYAMLValidate     = "LOAD_ERR_YAML_VALIDATE"
	ErrCompileCondition = "LOAD_ERR_COMPILE_CONDITION"
	ErrCompileOutput    = "LOAD_ERR_COMPILE_OUTPUT"
	ErrValidate         = "LOAD_ERR_VALIDATE"
)

// Warning codes: Falco's names.
const (
	WarnUnknownSource      = "LOAD_UNKNOWN_SOURCE"
	WarnUnsafeNACheck      = "LOAD_UNSAFE_NA_CHECK"
	WarnNoEvttype          = "LOAD_NO_EVTTYPE"
	WarnUnknownFilter      = "LOAD_UNKNOWN_FILTER"
	WarnUnusedMacro        = "LOAD_UNUSED_MACRO"
	WarnUnusedList         = "LOAD_UNUSED_LIST"
	WarnUnknownItem        = "LOAD_UNKNOWN_ITEM"
	WarnDeprecatedItem     = "LOAD_DEPRECATED_ITEM"
	WarnAppendNoValues     = "LOAD_APPEND_NO_VALUES"
	WarnExceptionNotUnique = "LOAD_EXCEPTION_NAME_NOT_UNIQUE"
	WarnInvalidMacroName   = "LOAD_INVALID_MACRO_NAME"
	WarnInvalidListName    = "LOAD_INVALID_LIST_NAME"
	WarnCompileCondition   = "LOAD_COMPILE_CONDITION"
	WarnUnknownKey         = "LOAD_UNKNOWN_KEY"
)

// Pos is a 1-based line and column (in characters) in a file.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"column"`
}

// Finding is one error or warning about a rules file.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	File     string   `json:"file"`
	Pos
	// Item names the item the finding is about, e.g. "rule 'Terminal shell'".
	Item string `json:"item,omitempty"`
}

// String formats the finding as path:line:col: severity: message [code].
func (f Finding) String() string {
	msg := f.Message
	if f.Item != "" {
		msg += " (" + f.Item + ")"
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s [%s]", f.File, f.Line, f.Col, f.Severity, msg, f.Code)
}

// Findings is a list of findings with helpers.
type Findings []Finding

// Errors counts the findings of severity error.
func (fs Findings) Errors() int { return fs.count(SeverityError) }

// Warnings counts the findings of severity warning.
func (fs Findings) Warnings() int { return fs.count(SeverityWarning) }

func (fs Findings) count(s Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Sort orders findings by file, line, column and code.
func (fs Findings) Sort() {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Code < b.Code
	})
}
