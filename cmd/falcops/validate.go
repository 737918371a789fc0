package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

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
PATH defaults to the current directory.`,
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
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, json, github (workflow annotations) or sarif (SARIF 2.1.0)")
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
	format, ok := formats[o.output]
	if !ok {
		return usageError("-o %q: want one of text, json, github, sarif", o.output)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	report := &report{}
	for _, p := range paths {
		if err := statPath(p); err != nil {
			return err
		}
	}
	for _, p := range paths {
		dirs, fs := rules.Discover(p)
		report.findings = append(report.findings, fs...)
		for _, rd := range dirs {
			rs, fs := rules.LoadRuleset(rd, opts)
			report.findings = append(report.findings, fs...)
			report.rulesets = append(report.rulesets, rulesetSummary{
				Name: rd.Manifest.Name, Version: rd.Manifest.Version, Files: rd.Paths, Engine: rs.Engine.String(),
				Rules: len(rs.Rules), Macros: len(rs.Macros), Lists: len(rs.Lists),
			})
		}
	}
	if err := format(cmd.OutOrStdout(), report); err != nil {
		return &exitError{exitUsage, fmt.Errorf("writing output: %w", err)}
	}
	if report.findings.Errors() > 0 || (o.strict && report.findings.Warnings() > 0) {
		return errFindings
	}
	return nil
}
