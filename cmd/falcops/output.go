package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/falcops/falcops/rules"
)

// rulesetSummary is what validate says about each ruleset it loaded.
type rulesetSummary struct {
	Name    string   `json:"name"`
	Version string   `json:"version,omitempty"`
	Files   []string `json:"files"`
	Engine  string   `json:"engine"`
	Rules   int      `json:"rules"`
	Macros  int      `json:"macros"`
	Lists   int      `json:"lists"`
}

type report struct {
	rulesets []rulesetSummary
	findings rules.Findings
}

var formats = map[string]func(io.Writer, *report) error{
	"text":   writeText,
	"json":   writeJSON,
	"github": writeGitHub,
	"sarif":  writeSARIF,
}

func writeText(w io.Writer, r *report) error {
	for _, f := range r.findings {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return err
		}
	}
	for _, s := range r.rulesets {
		v := ""
		if s.Version != "" {
			v = " " + s.Version
		}
		fmt.Fprintf(w, "ruleset %s%s: %d files, %d rules, %d macros, %d lists (engine %s)\n",
			s.Name, v, len(s.Files), s.Rules, s.Macros, s.Lists, s.Engine)
	}
	_, err := fmt.Fprintf(w, "%d rulesets: %d errors, %d warnings\n", len(r.rulesets), r.findings.Errors(), r.findings.Warnings())
	return err
}

func writeJSON(w io.Writer, r *report) error {
	out := struct {
		Rulesets []rulesetSummary `json:"rulesets"`
		Findings rules.Findings   `json:"findings"`
		Errors   int              `json:"errors"`
		Warnings int              `json:"warnings"`
	}{r.rulesets, r.findings, r.findings.Errors(), r.findings.Warnings()}
	if out.Rulesets == nil {
		out.Rulesets = []rulesetSummary{}
	}
	if out.Findings == nil {
		out.Findings = rules.Findings{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeGitHub prints GitHub Actions workflow commands, one annotation per finding.
func writeGitHub(w io.Writer, r *report) error {
	for _, f := range r.findings {
		level := "error"
		if f.Severity == rules.SeverityWarning {
			level = "warning"
		}
		msg := f.Message
		if f.Item != "" {
			msg += " (" + f.Item + ")"
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", level,
			ghProperty(filepath.ToSlash(f.File)), f.Line, f.Col, ghProperty(f.Code), ghData(msg)); err != nil {
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

// writeSARIF prints a SARIF 2.1.0 log for code scanning.
func writeSARIF(w io.Writer, r *report) error {
	codes := map[string]rules.Severity{}
	for _, f := range r.findings {
		codes[f.Code] = f.Severity
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
	for _, f := range r.findings {
		msg := f.Message
		if f.Item != "" {
			msg += " (" + f.Item + ")"
		}
		results = append(results, sarifResult{
			RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity), Message: sarifMessage{msg},
			Locations: []sarifLocation{{sarifPhysical{sarifArtifact{filepath.ToSlash(f.File)}, sarifRegion{f.Line, f.Col}}}},
		})
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0",
		Runs: []sarifRun{{Tool: sarifTool{driver}, Results: results}}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifLevel(s rules.Severity) string {
	if s == rules.SeverityWarning {
		return "warning"
	}
	return "error"
}
