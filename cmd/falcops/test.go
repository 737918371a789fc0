package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/ruletest"
)

type testOptions struct {
	strict  bool
	verbose bool
	engine  string
	run     string
	output  string
}

func newTestCmd() *cobra.Command {
	o := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test [RULESET...]",
		Short: "Run rule tests: events and the rules that must or must not fire for them",
		Long: `Run the rule tests of rulesets: each case in rulesets/<name>/tests/*.yaml is an
event (a source and field values) and the rules that must fire (fires) and must
not fire (not_fires) for it. Conditions are evaluated without Falco, with
exceptions, appended conditions and lists applied, and with Falco's operator
semantics. The format is described in rulesets/README.md ("Rule tests").

RULESET is a ruleset folder, a ruleset name (looked up in rulesets/ of the
repository), or a repository root (every rulesets/*/ruleset.yaml); the
default is the repository root (the top of the Git work tree, else the
nearest folder up holding rulesets/), so test runs the same cases from any
folder of it. A ruleset's files load after the rulesets it depends on, so cases
may name rules of the dependencies too.

Each case gets a line: path:line:col: ok: case '<name>' when it passes,
path:line:col: error: ... with the case, the rule, and what was expected and
why when it fails: the first part of the condition that was false, with the
event's value, or the parts that held when the rule fired though it should
not. Loaded rules of the ruleset's
own files without a firing or a non-firing case are warnings (errors with
--strict). The last line reads "N passed, N failed" (cases).

Exit codes: 0 all cases pass, 1 a case fails or a test file is invalid (or,
with --strict, a rule lacks cases), 2 usage error.`,
		Example: `  falcops test                           # every ruleset of the repository
  falcops test heartbeat -v
  falcops test rulesets/custom-example --strict`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.runTests(cmd.OutOrStdout(), args)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.strict, "strict", false, "fail when a rule has no firing or no non-firing case, or cannot be evaluated")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "also list the rules that fired for each passing case")
	f.StringVar(&o.engine, "engine-version", "", "Falco engine version (x.y.z) to load the rules for (default: as falcops validate)")
	f.StringVar(&o.run, "run", "", "run only the cases whose name matches this regular expression (coverage is not checked then)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: "+findingFormats+"; json lists every case with what fired")
	return cmd
}

// testJSON is the -o json document of falcops test.
type testJSON struct {
	Rulesets []*ruletest.RulesetReport `json:"rulesets"`
	Findings diag.Findings             `json:"findings"`
	Passed   int                       `json:"passed"`
	Failed   int                       `json:"failed"`
	Coverage int                       `json:"coverage"`
	Errors   int                       `json:"errors"`
}

func (o *testOptions) runTests(w io.Writer, args []string) error {
	if err := checkFindingFormat(o.output); err != nil {
		return err
	}
	opts := ruletest.Options{Strict: o.strict}
	if o.engine != "" {
		v, err := rules.ParseVersion(o.engine)
		if err != nil {
			return usageError("--engine-version: %v", err)
		}
		opts.Rules.Engine = v
	}
	if o.run != "" {
		re, err := regexp.Compile(o.run)
		if err != nil {
			return usageError("--run: %v", err)
		}
		opts.Filter = re
	}
	if len(args) == 0 {
		args = []string{repoRoot()}
	}
	var dirs []*rules.RulesetDir
	var discovered diag.Findings
	for _, a := range args {
		p, err := rulesetPath(a)
		if err != nil {
			return err
		}
		found, fs := rules.Discover(p)
		discovered = append(discovered, fs...)
		for _, rd := range found {
			if rd.ManifestPath == "" {
				return usageError("%s: falcops test takes ruleset folders (with %s) or a repository root, not a rules file", a, rules.ManifestFile)
			}
			dirs = append(dirs, rd)
		}
	}
	doc := testJSON{Rulesets: []*ruletest.RulesetReport{}, Findings: append(diag.Findings{}, discovered...), Errors: discovered.Errors()}
	for _, rd := range dirs {
		rep := ruletest.TestRuleset(rd, opts)
		doc.Rulesets = append(doc.Rulesets, rep)
		doc.Findings = append(doc.Findings, rep.Findings()...)
		doc.Passed += rep.Passed
		doc.Failed += rep.Failed
		doc.Coverage += len(rep.Gaps)
		doc.Errors += len(rep.RuleErrors)
	}
	report := findingsReport{findings: doc.Findings, json: doc,
		text: func(w io.Writer) error { return o.writeText(w, discovered, doc) }}
	if err := report.write(w, o.output); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if doc.Failed > 0 || doc.Errors > 0 || (o.strict && doc.Coverage > 0) {
		return errFindings
	}
	return nil
}

// writeText prints each case as path:line:col: ok: case '<name>' or the
// findings that say why it failed, and a summary per ruleset and in all.
func (o *testOptions) writeText(w io.Writer, discovered diag.Findings, doc testJSON) error {
	if err := writeFindings(w, discovered); err != nil {
		return err
	}
	for _, rep := range doc.Rulesets {
		_ = writeFindings(w, rep.RuleErrors)
		if n := len(rep.RuleErrors); n > 0 {
			fmt.Fprintf(w, "ruleset %s: %s in the rules (run falcops validate); rules with errors fail their cases\n", rep.Name, plural(n, "error"))
		}
		_ = writeFindings(w, rep.FileErrors)
		for _, c := range rep.Cases {
			if !c.Passed {
				_ = writeFindings(w, c.Findings)
				continue
			}
			fired := ""
			if o.verbose {
				fired = " (fired: " + ruletest.FiredList(c.Fired) + ")"
			}
			fmt.Fprintf(w, "%s: ok: case '%s'%s\n", c.Position, c.Name, fired)
		}
		_ = writeFindings(w, rep.Gaps)
		fmt.Fprintln(w, rep.Summary())
	}
	severity := "warning"
	if o.strict {
		severity = "error"
	}
	if doc.Coverage > 0 {
		fmt.Fprintf(w, "%s: rules without a firing or a non-firing case\n", plural(doc.Coverage, "coverage "+severity))
	}
	_, err := fmt.Fprintf(w, "%d passed, %d failed\n", doc.Passed, doc.Failed)
	return err
}

// rulesetPath accepts a path, or the name of a folder below the
// repository's rulesets/.
func rulesetPath(arg string) (string, error) {
	if _, err := os.Stat(arg); err == nil {
		return arg, nil
	}
	byName := filepath.Join(repoRoot(), "rulesets", arg)
	if !strings.ContainsRune(arg, filepath.Separator) {
		if _, err := os.Stat(filepath.Join(byName, rules.ManifestFile)); err == nil {
			return byName, nil
		}
	}
	return "", usageError("%s: no such ruleset folder or file", arg)
}
