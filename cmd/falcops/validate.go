package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/consistency"
	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/rules"
)

type validateOptions struct {
	engine string
	output string
	strict bool
}

func newValidateCmd() *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Validate Falco rules statically, as Falco's loader would",
		Long: `Validate rules files, ruleset folders (with ruleset.yaml) or a repository root
(which finds rulesets/*/ruleset.yaml). A loose rules file is a ruleset of one
file. A ruleset's files load in the order of its manifest, after the rulesets
it depends on, so overrides in later files apply to earlier ones.

Findings name the file, line and column: path:line:col: severity: message [CODE].
A path that does not exist or cannot be read is a LOAD_ERR_FILE_READ finding
(exit 1); the other paths are still validated. PATH defaults to the
repository root (the top of the Git work tree, else the nearest folder up
holding rulesets/), so validate reads the same files from any folder of it.`,
		Example: `  falcops validate                       # the repository's rulesets
  falcops validate rulesets/heartbeat -o json
  falcops validate my_rules.yaml --engine-version 0.43.0 --strict
  falcops validate -o sarif > falcops.sarif`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.engine, "engine-version", "", "Falco engine version (x.y.z) to validate for; decides which operators, transformers and fields exist (default: the highest version the files require, else "+rules.LatestEngine.String()+")")
	f.StringVarP(&o.output, "output", "o", "text", "output format: "+findingFormats)
	f.BoolVar(&o.strict, "strict", false, "treat warnings as errors (exit 1 on any warning), as upstream CI does")
	return cmd
}

// statPath turns a missing path into a usage error (exit 2).
func statPath(p string) error {
	if _, err := os.Stat(p); err != nil {
		return usageError("%v", err)
	}
	return nil
}

func (o *validateOptions) run(cmd *cobra.Command, paths []string) error {
	var opts rules.Options
	if o.engine != "" {
		v, err := rules.ParseVersion(o.engine)
		if err != nil {
			return usageError("--engine-version: %v", err)
		}
		opts.Engine = v
	}
	if err := checkFindingFormat(o.output); err != nil {
		return err
	}
	opts.Now = time.Now() // owned exceptions expire against today
	if len(paths) == 0 {
		paths = []string{repoRoot()}
	}
	var findings diag.Findings
	var summaries []rulesetSummary
	for _, p := range paths {
		dirs, fs := rules.Discover(p)
		findings = append(findings, fs...)
		findings = append(findings, profileConsistency(p)...)
		for _, rd := range dirs {
			rs, fs := rules.LoadRuleset(rd, opts)
			findings = append(findings, fs...)
			summaries = append(summaries, rulesetSummary{
				Name: rd.Manifest.Name, Version: rd.Manifest.Version, Files: rd.Paths, Engine: rs.Engine.String(),
				Rules: len(rs.Rules), Macros: len(rs.Macros), Lists: len(rs.Lists),
			})
		}
	}
	report := findingsReport{
		findings: findings,
		text:     func(w io.Writer) error { return writeValidateText(w, summaries, findings) },
		json: struct {
			Rulesets []rulesetSummary `json:"rulesets"`
			Findings diag.Findings    `json:"findings"`
			Errors   int              `json:"errors"`
			Warnings int              `json:"warnings"`
		}{orEmpty(summaries), orEmpty(findings), findings.Errors(), findings.Warnings()},
	}
	if err := report.write(cmd.OutOrStdout(), o.output); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if findings.Errors() > 0 || (o.strict && findings.Warnings() > 0) {
		return errFindings
	}
	return nil
}

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

func writeValidateText(w io.Writer, summaries []rulesetSummary, findings diag.Findings) error {
	if err := writeFindings(w, findings); err != nil {
		return err
	}
	for _, s := range summaries {
		v := ""
		if s.Version != "" {
			v = " " + s.Version
		}
		fmt.Fprintf(w, "ruleset %s%s: %s, %s, %s, %s (engine %s)\n", s.Name, v,
			plural(len(s.Files), "file"), plural(s.Rules, "rule"), plural(s.Macros, "macro"), plural(s.Lists, "list"), s.Engine)
	}
	_, err := fmt.Fprintf(w, "%s: %s, %s\n", plural(len(summaries), "ruleset"),
		plural(findings.Errors(), "error"), plural(findings.Warnings(), "warning"))
	return err
}

// plural is "1 file", "2 files", "0 files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// profileConsistency checks a repository root's profiles against its
// rulesets (consistency.Check); other paths, or profiles that do not
// load (falcops profile validate reports those), have nothing to check.
func profileConsistency(root string) diag.Findings {
	dir := filepath.Join(root, "profiles")
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil
	}
	prof, err := lifecycle.Load(dir)
	if err != nil {
		return nil
	}
	return consistency.Check(root, prof)
}
