package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/ruletest"
)

// findingsReport is what a command that reports findings (validate, test,
// profile validate) prints: its own text and JSON, and the common GitHub
// annotations and SARIF made from its findings alone.
type findingsReport struct {
	findings diag.Findings
	text     func(io.Writer) error
	json     any
}

// findingFormats are the -o values of commands that report findings.
const findingFormats = "text, json, github (workflow annotations) or sarif (SARIF 2.1.0)"

// checkFindingFormat rejects an unknown -o before any work is done.
func checkFindingFormat(format string) error {
	switch format {
	case "text", "json", "github", "sarif":
		return nil
	}
	return usageError("-o %q: want one of text, json, github, sarif", format)
}

func (r findingsReport) write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r.json)
	case "github":
		return writeGitHub(w, r.findings)
	case "sarif":
		return writeSARIF(w, r.findings)
	}
	return r.text(w)
}

// writeFindings prints findings one per line.
func writeFindings(w io.Writer, fs diag.Findings) error {
	for _, f := range fs {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	return nil
}

// orEmpty makes a nil list a JSON array.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeGitHub prints GitHub Actions workflow commands, one annotation per finding.
func writeGitHub(w io.Writer, fs diag.Findings) error {
	for _, f := range fs {
		level := "error"
		switch f.Severity {
		case diag.Warning:
			level = "warning"
		case diag.Info:
			level = "notice"
		}
		at := ""
		if f.Line > 0 { // a finding about a whole file or folder has no line
			at = fmt.Sprintf(",line=%d,col=%d", f.Line, f.Column)
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s%s,title=%s::%s\n", level,
			ghProperty(filepath.ToSlash(f.File)), at, ghProperty(ruleID(f)), ghData(f.Text())); err != nil {
			return err
		}
	}
	return nil
}

// ghData escapes a workflow command message.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// codeHelp describes each finding code for SARIF rule metadata.
var codeHelp = map[string]string{
	ruletest.CodeFailed:          "A rule did not behave as a test case expects.",
	ruletest.CodeInvalid:         "A rule test file or case is malformed.",
	ruletest.CodeCoverage:        "A rule lacks a firing or a non-firing test case.",
	ruletest.CodeEval:            "A rule's condition cannot be evaluated by the rule tests.",
	profileRule:                  "A Falco profile (FalcoProfile) problem: structure or lifecycle.",
	rules.ErrFileRead:            "The file could not be read.",
	rules.ErrYAMLParse:           "The file is not valid YAML.",
	rules.ErrYAMLValidate:        "An item has the wrong structure, a missing key or a value of the wrong type.",
	rules.ErrCompileCondition:    "A condition does not compile: syntax, unknown field or event type, or a feature newer than the engine.",
	rules.ErrCompileOutput:       "An output format refers to a field that does not exist.",
	rules.ErrValidate:            "An item is inconsistent: undefined macro, append without target, engine version mismatch, bad exception.",
	rules.ErrManifest:            "The ruleset manifest (ruleset.yaml) is invalid.",
	rules.WarnUnknownSource:      "The rule's source is not known; Falco skips the rule.",
	rules.WarnUnsafeNACheck:      "A comparison with <NA>; use 'exists' instead.",
	rules.WarnNoEvttype:          "The condition matches too many event types, which costs performance.",
	rules.WarnUnknownFilter:      "An unknown field or event type in a rule with skip-if-unknown-filter; Falco skips the rule.",
	rules.WarnUnusedMacro:        "A macro no rule or macro refers to.",
	rules.WarnUnusedList:         "A list no rule, macro or list refers to.",
	rules.WarnUnknownItem:        "A top-level item of unknown kind; Falco ignores it.",
	rules.WarnDeprecatedItem:     "A deprecated construct (append: true, standalone enabled, deprecated fields).",
	rules.WarnAppendNoValues:     "An appended exception without values.",
	rules.WarnExceptionNotUnique: "Two exceptions with the same name in one rule.",
	rules.WarnInvalidMacroName:   "A macro name Falco will not accept in conditions.",
	rules.WarnInvalidListName:    "A list name Falco will not accept in conditions.",
	rules.WarnCompileCondition:   "A warning raised while compiling a condition.",
	rules.WarnUnknownKey:         "An unknown key in an item; Falco ignores it.",
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
	DefaultConfig    sarifConfig  `json:"defaultConfiguration"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
}

// profileRule names findings without a code of their own (profile
// problems) in GitHub annotations and SARIF.
const profileRule = "FALCOPS_PROFILE"

func ruleID(f diag.Finding) string {
	if f.Code == "" {
		return profileRule
	}
	return f.Code
}

// writeSARIF prints a SARIF 2.1.0 log for code scanning.
func writeSARIF(w io.Writer, fs diag.Findings) error {
	codes := map[string]diag.Severity{}
	for _, f := range fs {
		codes[ruleID(f)] = f.Severity
	}
	ids := make([]string, 0, len(codes))
	for c := range codes {
		ids = append(ids, c)
	}
	sort.Strings(ids)
	index := map[string]int{}
	driver := sarifDriver{Name: "falcops", InformationURI: "https://github.com/falcops/falcops", Rules: []sarifRule{}}
	for i, id := range ids {
		index[id] = i
		help := codeHelp[id]
		if help == "" {
			help = id
		}
		driver.Rules = append(driver.Rules, sarifRule{ID: id, ShortDescription: sarifMessage{help},
			DefaultConfig: sarifConfig{sarifLevel(codes[id])}})
	}
	results := []sarifResult{}
	for _, f := range fs {
		id := ruleID(f)
		results = append(results, sarifResult{
			RuleID: id, RuleIndex: index[id], Level: sarifLevel(f.Severity), Message: sarifMessage{f.Text()},
			Locations: []sarifLocation{{sarifPhysical{sarifArtifact{filepath.ToSlash(f.File)}, sarifRegion{max(f.Line, 1), max(f.Column, 1)}}}},
		})
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0",
		Runs: []sarifRun{{Tool: sarifTool{driver}, Results: results}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifLevel(s diag.Severity) string {
	switch s {
	case diag.Warning:
		return "warning"
	case diag.Info:
		return "note"
	}
	return "error"
}
