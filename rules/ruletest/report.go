package ruletest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
)

// Codes of the findings of rule tests.
const (
	CodeFailed   = "FALCOPS_TEST_FAILED"   // a rule did not behave as a case expects
	CodeInvalid  = "FALCOPS_TEST_INVALID"  // a test file or case is malformed
	CodeCoverage = "FALCOPS_TEST_COVERAGE" // a rule lacks a firing or a non-firing case
	CodeEval     = "FALCOPS_TEST_EVAL"     // a rule's condition cannot be evaluated
)

// Options choose how a ruleset's tests run and are judged.
type Options struct {
	// Rules are the loader options (the engine version).
	Rules rules.Options
	// Filter, if set, runs only the cases whose name it matches; coverage
	// is not checked then.
	Filter *regexp.Regexp
	// Strict makes coverage gaps and rules that cannot be evaluated errors
	// instead of warnings.
	Strict bool
}

// RulesetReport is the outcome of one ruleset's tests.
type RulesetReport struct {
	Name string `json:"name"`
	// RuleErrors are the errors in the ruleset's rules; rules with errors
	// fail their cases.
	RuleErrors diag.Findings `json:"-"`
	// FileErrors are the test files that could not be read or parsed.
	FileErrors diag.Findings `json:"-"`
	Cases      []CaseReport  `json:"cases"`
	// Gaps are the ruleset's own rules that cannot be evaluated or lack a
	// firing or a non-firing case.
	Gaps diag.Findings `json:"-"`
	// Rules counts the ruleset's own rules checked for coverage.
	Rules  int `json:"rules"`
	Passed int `json:"passed"`
	// Failed counts failed cases and unreadable test files.
	Failed int `json:"failed"`
}

// CaseReport is the outcome of one case.
type CaseReport struct {
	Name string `json:"name"`
	diag.Position
	Passed bool `json:"passed"`
	// Fired lists every loaded rule of the event's source that fired.
	Fired []string `json:"fired"`
	// Findings say why the case failed.
	Findings diag.Findings `json:"findings,omitempty"`
}

// Findings returns every finding of the report, in the order they are
// reported: rule errors, test files, cases, gaps.
func (r *RulesetReport) Findings() diag.Findings {
	out := append(diag.Findings{}, r.RuleErrors...)
	out = append(out, r.FileErrors...)
	for _, c := range r.Cases {
		out = append(out, c.Findings...)
	}
	return append(out, r.Gaps...)
}

// TestRuleset loads a ruleset (a folder with a manifest), runs the cases in
// its tests folder and checks that each of its own rules has a firing and
// a non-firing case.
func TestRuleset(rd *rules.RulesetDir, opts Options) *RulesetReport {
	rep := &RulesetReport{Name: rd.Manifest.Name}
	rs, fs := rules.LoadRuleset(rd, opts.Rules)
	for _, f := range fs {
		if f.Severity == diag.Error {
			rep.RuleErrors = append(rep.RuleErrors, f)
		}
	}
	cases, fileErrors := Load(filepath.Join(rd.Dir, "tests"))
	rep.FileErrors = fileErrors
	rep.Failed = len(fileErrors)
	if opts.Filter != nil {
		kept := cases[:0]
		for _, c := range cases {
			if opts.Filter.MatchString(c.Name) {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	suite := NewSuite(rs)
	run := suite.Run(cases)
	for _, res := range run.Results {
		cr := caseReport(res)
		if cr.Passed {
			rep.Passed++
		} else {
			rep.Failed++
		}
		rep.Cases = append(rep.Cases, cr)
	}
	sev := diag.Warning
	if opts.Strict {
		sev = diag.Error
	}
	own := map[string]bool{}
	for _, p := range rd.Paths {
		own[p] = true
	}
	for _, re := range suite.CompileErrors() {
		if own[re.Rule.At.File] {
			rep.Gaps.Add(CodeEval, sev, re.Rule.At, "%s", re.Err.Error())
		}
	}
	if opts.Filter != nil {
		return rep
	}
	for _, cv := range run.Coverage {
		if !own[cv.Rule.At.File] {
			continue
		}
		rep.Rules++
		var missing []string
		if cv.Positive == 0 {
			missing = append(missing, "no firing case (fires)")
		}
		if cv.Negative == 0 {
			missing = append(missing, "no non-firing case (not_fires)")
		}
		if len(missing) > 0 {
			rep.Gaps.Add(CodeCoverage, sev, cv.Rule.At, "rule '%s' has %s", cv.Rule.Name, strings.Join(missing, " and "))
		}
	}
	return rep
}

// caseReport judges one case and says why it failed.
func caseReport(res *Result) CaseReport {
	c := res.Case
	cr := CaseReport{Name: c.Name, Position: c.Pos, Passed: res.Passed(), Fired: res.Fired}
	if cr.Fired == nil {
		cr.Fired = []string{}
	}
	if cr.Passed {
		return cr
	}
	if c.Err != nil {
		f := *c.Err
		if c.Name != "" {
			f.Message = "case '" + c.Name + "': " + f.Message
		}
		cr.Findings = append(cr.Findings, f)
		return cr
	}
	for _, ch := range res.Failed() {
		if ch.Err != nil {
			cr.Findings.Add(CodeInvalid, diag.Error, ch.Pos, "case '%s': %v", c.Name, ch.Err)
			continue
		}
		cr.Findings.Add(CodeFailed, diag.Error, c.Pos, "case '%s': rule '%s': %s (fired: %s)",
			c.Name, ch.Rule, failure(ch), FiredList(res.Fired))
	}
	return cr
}

// failure says what a failed check expected and why it did not happen.
func failure(ch Check) string {
	want, got := "expected to fire", "it did not"
	if !ch.Expected {
		want, got = "expected not to fire", "it fired"
	}
	if ch.Why == "" {
		return want + ", but " + got
	}
	return want + ", but " + ch.Why
}

// FiredList quotes rule names for messages: 'a', 'b'; "none" when empty.
func FiredList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ", ")
}

// Summary is the report's last line: "ruleset heartbeat: 3 cases for 1
// rule (3 ok, 0 failing), 0 coverage gaps".
func (r *RulesetReport) Summary() string {
	return fmt.Sprintf("ruleset %s: %s for %s (%d ok, %d failing), %s", r.Name,
		plural(r.Passed+r.Failed, "case"), plural(r.Rules, "rule"), r.Passed, r.Failed, plural(len(r.Gaps), "coverage gap"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
