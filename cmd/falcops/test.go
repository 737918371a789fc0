package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/ruletest"
)

// Codes of the findings falcops test prints.
const (
	codeTestFailed   = "FALCOPS_TEST_FAILED"   // a rule did not behave as a case expects
	codeTestInvalid  = "FALCOPS_TEST_INVALID"  // a test file or case is malformed
	codeTestCoverage = "FALCOPS_TEST_COVERAGE" // a rule lacks a firing or a non-firing case
	codeTestEval     = "FALCOPS_TEST_EVAL"     // a rule's condition cannot be evaluated
)

type testOptions struct {
	strict  bool
	verbose bool
	engine  string
	run     string
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

RULESET is a ruleset folder, a ruleset name (looked up in rulesets/), or a
repository root (every rulesets/*/ruleset.yaml); the default is the current
directory. A ruleset's files load after the rulesets it depends on, so cases
may name rules of the dependencies too.

Each case gets a line: path:line:col: ok: case '<name>' when it passes,
path:line:col: error: ... with the case, the rule, and what was expected and
what happened when it fails. Loaded rules of the ruleset's
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
	return cmd
}

// testTotals accumulates the outcome over rulesets.
type testTotals struct {
	passed, failed int
	coverage       int // coverage gaps and rules that cannot be evaluated
	errors         int // ruleset or manifest errors
}

func (o *testOptions) runTests(w io.Writer, args []string) error {
	var opts rules.Options
	if o.engine != "" {
		v, err := rules.ParseVersion(o.engine)
		if err != nil {
			return usageError("--engine-version: %v", err)
		}
		opts.Engine = v
	}
	var filter *regexp.Regexp
	if o.run != "" {
		re, err := regexp.Compile(o.run)
		if err != nil {
			return usageError("--run: %v", err)
		}
		filter = re
	}
	if len(args) == 0 {
		args = []string{"."}
	}
	var dirs []*rules.RulesetDir
	tot := &testTotals{}
	for _, a := range args {
		p, err := rulesetPath(a)
		if err != nil {
			return err
		}
		found, fs := rules.Discover(p)
		for _, f := range fs {
			fmt.Fprintln(w, f.String())
		}
		tot.errors += fs.Errors()
		for _, rd := range found {
			if rd.ManifestPath == "" {
				return usageError("%s: falcops test takes ruleset folders (with %s) or a repository root, not a rules file", a, rules.ManifestFile)
			}
			dirs = append(dirs, rd)
		}
	}
	for _, rd := range dirs {
		o.testRuleset(w, rd, opts, filter, tot)
	}
	severity := "warning"
	if o.strict {
		severity = "error"
	}
	if tot.coverage > 0 {
		fmt.Fprintf(w, "%d coverage %ss: rules without a firing or a non-firing case\n", tot.coverage, severity)
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", tot.passed, tot.failed)
	if tot.failed > 0 || tot.errors > 0 || (o.strict && tot.coverage > 0) {
		return errFindings
	}
	return nil
}

// rulesetPath accepts a path, or the name of a folder below rulesets/.
func rulesetPath(arg string) (string, error) {
	if _, err := os.Stat(arg); err == nil {
		return arg, nil
	}
	byName := filepath.Join("rulesets", arg)
	if !strings.ContainsRune(arg, filepath.Separator) {
		if _, err := os.Stat(filepath.Join(byName, rules.ManifestFile)); err == nil {
			return byName, nil
		}
	}
	return "", usageError("%s: no such ruleset folder or file", arg)
}

func finding(w io.Writer, file string, p rules.Pos, severity, msg, code string) {
	fmt.Fprintf(w, "%s:%d:%d: %s: %s [%s]\n", file, p.Line, p.Col, severity, msg, code)
}

func (o *testOptions) testRuleset(w io.Writer, rd *rules.RulesetDir, opts rules.Options, filter *regexp.Regexp, tot *testTotals) {
	rs, fs := rules.LoadRuleset(rd, opts)
	for _, f := range fs {
		if f.Severity == rules.SeverityError {
			fmt.Fprintln(w, f.String())
		}
	}
	if n := fs.Errors(); n > 0 {
		tot.errors += n
		fmt.Fprintf(w, "ruleset %s: %d errors in the rules (run falcops validate); rules with errors fail their cases\n", rd.Manifest.Name, n)
	}
	cases, err := ruletest.Load(filepath.Join(rd.Dir, "tests"))
	fileErrors := 0
	if err != nil {
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		} else {
			errs = []error{err}
		}
		for _, e := range errs {
			var te *ruletest.Error
			if errors.As(e, &te) {
				finding(w, te.File, te.Pos, "error", te.Msg, codeTestInvalid)
			} else {
				fmt.Fprintf(w, "%s: error: %v [%s]\n", filepath.Join(rd.Dir, "tests"), e, codeTestInvalid)
			}
			fileErrors++
		}
	}
	if filter != nil {
		kept := cases[:0]
		for _, c := range cases {
			if filter.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	suite := ruletest.NewSuite(rs)
	rep := suite.Run(cases)
	passed, failed := 0, fileErrors
	for _, res := range rep.Results {
		c := res.Case
		if res.Passed() {
			passed++
			fired := ""
			if o.verbose {
				fired = " (fired: " + firedList(res.Fired) + ")"
			}
			fmt.Fprintf(w, "%s:%d:%d: ok: case '%s'%s\n", c.File, c.Pos.Line, c.Pos.Col, c.Name, fired)
			continue
		}
		failed++
		if c.Err != nil {
			name := ""
			if c.Name != "" {
				name = "case '" + c.Name + "': "
			}
			finding(w, c.File, c.Err.Pos, "error", name+c.Err.Msg, codeTestInvalid)
			continue
		}
		for _, ch := range res.Failed() {
			if ch.Err != nil {
				finding(w, c.File, ch.Pos, "error", fmt.Sprintf("case '%s': %v", c.Name, ch.Err), codeTestInvalid)
				continue
			}
			finding(w, c.File, c.Pos, "error", fmt.Sprintf("case '%s': rule '%s': expected %s, got %s (fired: %s)",
				c.Name, ch.Rule, fireWord(ch.Expected), fireWord(ch.Actual), firedList(res.Fired)), codeTestFailed)
		}
	}
	severity := "warning"
	if o.strict {
		severity = "error"
	}
	own := map[string]bool{}
	for _, p := range rd.Paths {
		own[p] = true
	}
	gaps := 0
	for _, re := range suite.CompileErrors() {
		if own[re.Rule.At.File] {
			finding(w, re.Rule.At.File, re.Rule.At.Pos, severity, re.Err.Error(), codeTestEval)
			gaps++
		}
	}
	rulesOwn := 0
	if filter == nil {
		for _, cv := range rep.Coverage {
			if !own[cv.Rule.At.File] {
				continue
			}
			rulesOwn++
			var missing []string
			if cv.Positive == 0 {
				missing = append(missing, "no firing case (fires)")
			}
			if cv.Negative == 0 {
				missing = append(missing, "no non-firing case (not_fires)")
			}
			if len(missing) > 0 {
				finding(w, cv.Rule.At.File, cv.Rule.At.Pos, severity,
					fmt.Sprintf("rule '%s' has %s", cv.Rule.Name, strings.Join(missing, " and ")), codeTestCoverage)
				gaps++
			}
		}
	}
	fmt.Fprintf(w, "ruleset %s: %s for %s (%d ok, %d failing), %s\n", rd.Manifest.Name,
		plural(passed+failed, "case"), plural(rulesOwn, "rule"), passed, failed, plural(gaps, "coverage gap"))
	tot.passed += passed
	tot.failed += failed
	tot.coverage += gaps
}

func fireWord(fired bool) string {
	if fired {
		return "fire"
	}
	return "no fire"
}

func firedList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
