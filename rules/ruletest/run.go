package ruletest

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/condition"
)

// Report is the outcome of running test cases against a ruleset.
type Report struct {
	Results []*Result
	// Coverage has one entry per rule Falco would load (enabled, not
	// skipped, compiled), in ruleset order.
	Coverage []Coverage
}

// Result is the outcome of one case.
type Result struct {
	Case *Case
	// Checks has one entry per rule named in fires, then in not_fires.
	Checks []Check
	// Fired lists every loaded rule of the event's source that fired, in
	// ruleset order (whether named in the case or not).
	Fired []string
}

// Check is the verdict on one rule named by a case.
type Check struct {
	Rule     string
	Pos      diag.Position // where the case names the rule
	Expected bool          // true: listed in fires
	Actual   bool          // whether the rule fired
	// Err is set when the rule cannot be checked: unknown, disabled (in
	// fires), of another source, or its condition does not compile.
	Err error
	// Why explains a failed check: the first part of the condition that was
	// false, with the event's values (`"proc.name = bash" was false:
	// proc.name is "sh"`), or the parts that held when the rule fired.
	Why string
}

// Passed reports whether the rule behaved as the case expects.
func (c Check) Passed() bool { return c.Err == nil && c.Actual == c.Expected }

// Passed reports whether the case is well formed and every check passed.
func (r *Result) Passed() bool {
	if r.Case.Err != nil {
		return false
	}
	for _, c := range r.Checks {
		if !c.Passed() {
			return false
		}
	}
	return true
}

// Failed returns the checks that did not pass.
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.Passed() {
			out = append(out, c)
		}
	}
	return out
}

// Coverage counts the cases naming a rule.
type Coverage struct {
	Rule     *rules.Rule
	Positive int // cases listing the rule in fires
	Negative int // cases listing the rule in not_fires
}

// Counts returns how many cases passed and failed.
func (r *Report) Counts() (passed, failed int) {
	for _, res := range r.Results {
		if res.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// Gaps returns the coverage entries lacking a positive or a negative case.
func (r *Report) Gaps() []Coverage {
	var out []Coverage
	for _, c := range r.Coverage {
		if c.Positive == 0 || c.Negative == 0 {
			out = append(out, c)
		}
	}
	return out
}

// Errors returned in Check.Err, for callers that branch on them.
var (
	ErrUnknownRule   = errors.New("no rule by that name")
	ErrRuleDisabled  = errors.New("rule is disabled")
	ErrRuleNotLoaded = errors.New("rule is not loaded by Falco")
	ErrRuleBroken    = errors.New("rule has errors (see falcops validate)")
	ErrWrongSource   = errors.New("rule is for another event source")
)

// Suite holds the compiled rules of a ruleset, to run many events against.
type Suite struct {
	rs       *rules.Ruleset
	loaded   []*rules.Rule // rules Falco would load, in order
	programs map[*rules.Rule]*Program
	errs     map[*rules.Rule]error
	macros   int // macro ids of all programs, for one evaluation state per event
	states   sync.Pool
}

// Loaded reports whether Falco would load the rule: enabled, not skipped
// and compiled without errors.
func Loaded(r *rules.Rule) bool { return r.Enabled && !r.Skipped && r.Compiled != nil }

// NewSuite compiles every rule Falco would load, on its condition with
// exceptions. Each macro is compiled once per event source and shared by
// every rule and macro using it (never expanded textually), so a chain of
// macros each using the previous one twice costs linear time and memory.
func NewSuite(rs *rules.Ruleset) *Suite {
	s := &Suite{rs: rs, programs: map[*rules.Rule]*Program{}, errs: map[*rules.Rule]error{}}
	macros := func(name string) condition.Expr {
		if m := rs.Macro(name); m != nil {
			return m.AST
		}
		return nil
	}
	compilers := map[string]*compiler{}
	for _, r := range rs.Rules {
		if !Loaded(r) {
			continue
		}
		s.loaded = append(s.loaded, r)
		c := compilers[r.Source]
		if c == nil {
			c = newCompiler(r.Source, macros, &s.macros)
			compilers[r.Source] = c
		}
		p, err := c.program(r.Compiled)
		if err != nil {
			s.errs[r] = fmt.Errorf("rule '%s': condition cannot be evaluated: %w", r.Name, err)
			continue
		}
		s.programs[r] = p
	}
	return s
}

// RuleError is a loaded rule whose expanded condition the evaluator
// rejects (as libsinsp's filter compiler would).
type RuleError struct {
	Rule *rules.Rule
	Err  error
}

func (e RuleError) Error() string { return e.Err.Error() }

// CompileErrors lists the loaded rules whose condition cannot be evaluated,
// in ruleset order.
func (s *Suite) CompileErrors() []RuleError {
	var out []RuleError
	for _, r := range s.loaded {
		if err := s.errs[r]; err != nil {
			out = append(out, RuleError{Rule: r, Err: err})
		}
	}
	return out
}

// Fired evaluates every loaded rule of the event's source and returns the
// names of those that fire, in ruleset order.
func (s *Suite) Fired(ev *Event) []string {
	var out []string
	st := s.state(ev)
	defer s.states.Put(st)
	for _, r := range s.loaded {
		if r.Source != ev.Source {
			continue
		}
		if p := s.programs[r]; p != nil && p.root.eval(st) {
			out = append(out, r.Name)
		}
	}
	return out
}

// state is a fresh evaluation state for an event, reusing a pooled one:
// evaluating many events allocates no memo per event.
func (s *Suite) state(ev *Event) *evalState {
	st, _ := s.states.Get().(*evalState)
	if st == nil {
		return newState(ev, s.macros)
	}
	st.ev = ev
	clear(st.memo)
	return st
}

// check evaluates one named rule for a case.
func (s *Suite) check(ref RuleRef, expected bool, ev *Event) Check {
	c := Check{Rule: ref.Name, Pos: ref.Pos, Expected: expected}
	r := s.rs.Rule(ref.Name)
	switch {
	case r == nil:
		c.Err = fmt.Errorf("rule '%s': %w", ref.Name, ErrUnknownRule)
	case r.Source != ev.Source:
		c.Err = fmt.Errorf("rule '%s' has source '%s' but the event is from '%s': %w", r.Name, r.Source, ev.Source, ErrWrongSource)
	case !r.Enabled || r.Skipped:
		// a rule Falco does not load never fires: fine for not_fires
		if expected {
			err := ErrRuleDisabled
			if r.Enabled {
				err = ErrRuleNotLoaded
			}
			c.Err = fmt.Errorf("rule '%s': %w", r.Name, err)
		}
	case r.Compiled == nil:
		c.Err = fmt.Errorf("rule '%s': %w", r.Name, ErrRuleBroken)
	case s.errs[r] != nil:
		c.Err = s.errs[r]
	default:
		p := s.programs[r]
		c.Actual = p.eval(ev)
		if c.Actual != expected {
			_, c.Why = p.explain(ev)
		}
	}
	return c
}

// Run runs the cases against a ruleset: each case's event is evaluated with
// the rules it names, with Falco's operator semantics, and every loaded rule
// of the event's source is evaluated to list what fired.
func Run(rs *rules.Ruleset, cases []*Case) *Report {
	return NewSuite(rs).Run(cases)
}

// Run runs cases against the suite's rules.
func (s *Suite) Run(cases []*Case) *Report {
	rep := &Report{}
	pos := map[string]int{}
	neg := map[string]int{}
	for _, c := range cases {
		res := &Result{Case: c}
		rep.Results = append(rep.Results, res)
		for _, r := range c.Fires {
			pos[r.Name]++
		}
		for _, r := range c.NotFires {
			neg[r.Name]++
		}
		if c.Err != nil || c.Event == nil {
			continue
		}
		for _, r := range c.Fires {
			res.Checks = append(res.Checks, s.check(r, true, c.Event))
		}
		for _, r := range c.NotFires {
			res.Checks = append(res.Checks, s.check(r, false, c.Event))
		}
		res.Fired = s.Fired(c.Event)
	}
	for _, r := range s.loaded {
		rep.Coverage = append(rep.Coverage, Coverage{Rule: r, Positive: pos[r.Name], Negative: neg[r.Name]})
	}
	return rep
}

// SortResults orders results by file and position.
func (r *Report) SortResults() {
	sort.SliceStable(r.Results, func(i, j int) bool {
		return r.Results[i].Case.Pos.Before(r.Results[j].Case.Pos)
	})
}
