package rules

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

// evttypeHeader is loaded before the rule of every event-type case.
const evttypeHeader = `
- list: open_events
  items: [open, openat]
- list: empty_events
  items: []
- list: nested_events
  items: [open_events, close]
- macro: openat_only
  condition: evt.type = openat
- macro: open_read
  condition: evt.type in (open, openat) and evt.is_open_read = true
- macro: proc_is_sh
  condition: proc.name = sh
- macro: spawned_process
  condition: evt.type in (execve, execveat)
- macro: spawned_shell
  condition: spawned_process and proc.name in (bash, sh)
- macro: never_true
  condition: (evt.num=0)
- macro: always_true
  condition: (evt.num>=1)
`

// evttypeRule builds a rules file with the header and one syscall rule "R".
func evttypeRule(cond string, extra ...string) string {
	var b strings.Builder
	b.WriteString(evttypeHeader)
	fmt.Fprintf(&b, "- rule: R\n  desc: d\n  priority: INFO\n  output: o %%proc.name\n  condition: %s\n", evttypeQuote(cond))
	for _, e := range extra {
		b.WriteString("  " + e + "\n")
	}
	return b.String()
}

// evttypeQuote writes a condition as a double-quoted YAML scalar.
func evttypeQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func etOnly(names ...string) EventTypes   { return EventTypesOf(names...) }
func etAllBut(names ...string) EventTypes { return EventTypesOf(names...).Complement() }

var (
	etAll  = AllEventTypes()
	etNone = EventTypesOf()
)

func loadEvttypeRule(t *testing.T, src string, engine Version) (*Ruleset, *Rule) {
	t.Helper()
	rs := LoadBytes("evttype.yaml", []byte(src), Options{Engine: engine})
	for _, f := range rs.Findings {
		require.NotEqual(t, diag.Error, f.Severity, "unexpected error: %s\n%s", f, src)
	}
	r := rs.Rule("R")
	require.NotNil(t, r, "rule R not loaded:\n%s", src)
	return rs, r
}

// TestEventTypeInference checks the event types inferred for a rule against
// the set libsinsp's event code search (userspace/libsinsp/filter/ppm_codes.cpp,
// ppm_event_codes) computes. The rules it follows:
//
//   - and = intersection, or = union of the children's sets;
//   - "not" is pushed down to the leaves (De Morgan): "not (A and B)" is
//     "not A or not B";
//   - a check on evt.type/syscall.type with =, ==, != or in gives the names'
//     set (inverted for != and under a negation);
//   - any other check is neutral: it matches every event type and is NOT
//     inverted under a negation ("not proc.name=cat" still matches all);
//   - "evt.type exists" matches all and is inverted under negation (none);
//   - macros are expanded before the search, lists substituted textually;
//   - evt.num invariants (evt.num >= 1 at runtime) decide some evt.num checks
//     statically, only in libs shipped with Falco master (engine 0.63.0).
//
// Cases quoted from libs' userspace/libsinsp/test/filter_ppm_codes.ut.cpp are
// marked "ut:".
func TestEventTypeInference(t *testing.T) {
	type tc struct {
		cond   string
		engine Version // zero: Engine044 (Falco 0.44)
		want   EventTypes
	}
	cases := []tc{
		// Plain evt.type checks.
		{cond: "evt.type = open", want: etOnly("open")},
		{cond: "evt.type == open", want: etOnly("open")},
		{cond: "evt.type=openat", want: etOnly("openat")},
		{cond: "evt.type != open", want: etAllBut("open")},
		{cond: "evt.type in (open, openat, close)", want: etOnly("open", "openat", "close")},
		{cond: "evt.type in (openat)", want: etOnly("openat")},
		// ut: "not evt.type in (openat, close)" is every event but those.
		{cond: "not evt.type in (open, close)", want: etAllBut("open", "close")},
		{cond: "not evt.type = open", want: etAllBut("open")},
		// Double and triple negation (ut: check_openat): negations cancel
		// pairwise, and "!=" under "not" is inverted twice.
		{cond: "not evt.type != openat", want: etOnly("openat")},
		{cond: "not not evt.type = openat", want: etOnly("openat")},
		{cond: "not (not evt.type=openat)", want: etOnly("openat")},
		{cond: "not not not evt.type = openat", want: etAllBut("openat")},
		{cond: "not not not evt.type in (openat, close)", want: etAllBut("openat", "close")},

		// and / or.
		{cond: "evt.type = open and proc.name = cat", want: etOnly("open")},
		{cond: "evt.type=openat and not proc.name=nginx", want: etOnly("openat")},
		// ut: check_all_events, the neutral check opens the union to everything.
		{cond: "evt.type = open or proc.name = cat", want: etAll},
		{cond: "evt.type = open or evt.type = close", want: etOnly("open", "close")},
		// ut: check_no_events.
		{cond: "evt.type = open and evt.type = close", want: etNone},
		{cond: "evt.type in (open, close) and evt.type in (close, read)", want: etOnly("close")},
		{cond: "evt.type != open and evt.type != close", want: etAllBut("open", "close")},
		// ut: check_all_events, (all-openat) ∪ (all-close) = all.
		{cond: "evt.type != openat or evt.type != close", want: etAll},
		// ut: check_openat, close ∪ (all-openat) = all-openat.
		{cond: "evt.type = close or evt.type != openat", want: etAllBut("openat")},

		// not of and/or (De Morgan).
		{cond: "not (evt.type = open or evt.type = close)", want: etAllBut("open", "close")},
		{cond: "not (evt.type = open and evt.type = close)", want: etAll},
		// "not (A and B)" = "not A or not B" = (all-open) ∪ all: every event
		// type, not "all but open". The neutral check is not inverted, so the
		// union is everything (ut: check_all_events "evt.type=close or not
		// (evt.type=openat and proc.name=nginx)" is all events; check_properties
		// "... and not (proc.name=cat and evt.type=mmap)" keeps mmap).
		{cond: "not (evt.type = open and proc.name = x)", want: etAll},
		{cond: "evt.type in (connect, execve, accept, mmap) and not (proc.name=cat and evt.type=mmap)",
			want: etOnly("accept", "connect", "execve", "mmap")},
		// "not (A or B)" = "not A and not B" = (all-open) ∩ all.
		{cond: "not (evt.type = open or proc.name = x)", want: etAllBut("open")},
		// ut: check_properties, A * A' = 0.
		{cond: "(evt.type=mmap and not evt.type=mmap)", want: etNone},
		{cond: "evt.type=mmap or not evt.type=mmap", want: etAll},

		// Macros are expanded as Falco does before the search.
		{cond: "openat_only", want: etOnly("openat")},
		{cond: "not openat_only", want: etAllBut("openat")},
		{cond: "not not openat_only", want: etOnly("openat")},
		{cond: "open_read", want: etOnly("open", "openat")},
		// not (evt.type in (open, openat) and evt.is_open_read=true)
		// = (all - {open, openat}) ∪ all = all.
		{cond: "not open_read", want: etAll},
		{cond: "evt.type in (open, close) and not open_read", want: etOnly("open", "close")},
		{cond: "evt.type in (open, close) and not openat_only", want: etOnly("open", "close")},
		{cond: "evt.type in (openat, close) and not openat_only", want: etOnly("close")},
		{cond: "spawned_shell", want: etOnly("execve", "execveat")},
		{cond: "spawned_process and not proc_is_sh", want: etOnly("execve", "execveat")},
		{cond: "not spawned_shell", want: etAll},
		{cond: "not spawned_process", want: etAllBut("execve", "execveat")},
		{cond: "openat_only or spawned_process", want: etOnly("openat", "execve", "execveat")},

		// Lists are substituted into the condition before parsing.
		{cond: "evt.type in (open_events)", want: etOnly("open", "openat")},
		{cond: "evt.type in open_events", want: etOnly("open", "openat")},
		{cond: "evt.type in (nested_events, read)", want: etOnly("open", "openat", "close", "read")},
		{cond: "not evt.type in (open_events)", want: etAllBut("open", "openat")},
		{cond: "evt.type in (empty_events)", want: etNone},

		// exists.
		{cond: "evt.type exists", want: etAll},
		// ut: check_properties, 1' = 0.
		{cond: "not evt.type exists", want: etNone},
		{cond: "evt.type exists and evt.type = open", want: etOnly("open")},
		{cond: "not syscall.type exists", want: etNone},
		// exists on another field is neutral: not inverted.
		{cond: "proc.name exists", want: etAll},
		{cond: "not proc.name exists", want: etAll},

		// Checks on other fields match all event types, negated or not.
		{cond: "proc.name = cat", want: etAll},
		{cond: "not proc.name = cat", want: etAll},
		{cond: "fd.name startswith /etc and not proc.name in (cat, ls)", want: etAll},
		// Operators other than = == != in do not restrict evt.type.
		{cond: "evt.type startswith open", want: etAll},
		{cond: "not evt.type startswith open", want: etAll},
		{cond: "evt.type pmatch (open)", want: etAll},

		// syscall.type is searched like evt.type.
		{cond: "syscall.type = open", want: etOnly("open")},
		{cond: "syscall.type != open", want: etAllBut("open")},
		{cond: "not syscall.type in (open, openat)", want: etAllBut("open", "openat")},

		// Transformers on other fields are neutral checks.
		{cond: "tolower(proc.name) = bash", want: etAll},
		{cond: "not tolower(proc.name) = bash", want: etAll},
		{cond: "evt.type = open and toupper(proc.name) = BASH", want: etOnly("open")},
		{cond: "evt.type = execve and proc.name = val(proc.pname)", want: etOnly("execve")},
		{cond: "evt.type = execve and not basename(proc.exepath) = sh", want: etOnly("execve")},

		// An empty list is the empty set (ut: check_properties "zero" set).
		{cond: "evt.type in ()", want: etNone},
		{cond: "not evt.type in ()", want: etAll},
		{cond: "evt.type = open or evt.type in ()", want: etOnly("open")},

		// Names that map to no event code add nothing: libsinsp's
		// names_to_event_set skips the generic event's name "syscall", and
		// syscall.type values are not validated, so an unknown one is
		// accepted and matches nothing.
		{cond: "evt.type = syscall", want: etNone},
		{cond: "evt.type != syscall", want: etAll},
		{cond: "syscall.type = nosuchevent", want: etNone},
		{cond: "syscall.type in (open, nosuchevent)", want: etOnly("open")},

		// evt.num invariants, only from engine 0.63.0 (Falco master). At
		// 0.62.0 (Falco 0.44) evt.num checks are neutral like any field.
		{cond: "evt.num = 0", engine: EngineNext, want: etNone},
		{cond: "evt.num = 0", engine: Engine044, want: etAll},
		{cond: "not evt.num = 0", engine: EngineNext, want: etAll},
		{cond: "evt.num != 0", engine: EngineNext, want: etAll},
		{cond: "not evt.num != 0", engine: EngineNext, want: etNone},
		{cond: "not evt.num != 0", engine: Engine044, want: etAll},
		{cond: "evt.num < 1", engine: EngineNext, want: etNone},
		{cond: "evt.num <= 0", engine: EngineNext, want: etNone},
		{cond: "not evt.num >= 1", engine: EngineNext, want: etNone},
		{cond: "not evt.num > 0", engine: EngineNext, want: etNone},
		{cond: "evt.num in ()", engine: EngineNext, want: etNone},
		{cond: "evt.num in (0, 0)", engine: EngineNext, want: etNone},
		// Undecided: satisfiable but not narrowing, and not inverted.
		{cond: "evt.num = 1", engine: EngineNext, want: etAll},
		{cond: "not evt.num = 1", engine: EngineNext, want: etAll},
		{cond: "evt.num in (0, 1)", engine: EngineNext, want: etAll},
		{cond: "evt.num <= 1", engine: EngineNext, want: etAll},
		// libs parses the literal with tryparseu64 (decimal sscanf):
		// negative numbers wrap around and stay undecided (ut:
		// check_evt_num_invariants), while "+0" and "-0" are 0. Hex literals
		// are covered by TestEvtNumInvariantLiterals: Falco cannot compile
		// them for evt.num at all.
		{cond: "evt.num = -1", engine: EngineNext, want: etAll},
		{cond: "evt.num in (0, -1, -2)", engine: EngineNext, want: etAll},
		{cond: "evt.num in (+0, -0)", engine: EngineNext, want: etNone},
		// A transformer on evt.num is no invariant either, but Falco
		// cannot compile one: b64 and len refuse numbers (TestTypeCheckTexts).
		// The never_true idiom of the upstream rules (ut: composition).
		{cond: "evt.type = open and never_true", engine: EngineNext, want: etNone},
		{cond: "evt.type = open and never_true", engine: Engine044, want: etOnly("open")},
		{cond: "evt.type = open and not never_true", engine: EngineNext, want: etOnly("open")},
		{cond: "evt.type = open or never_true", engine: EngineNext, want: etOnly("open")},
		{cond: "evt.type = open or never_true", engine: Engine044, want: etAll},
		{cond: "not (evt.type = open and never_true)", engine: EngineNext, want: etAll},
		{cond: "not (evt.type = open or never_true)", engine: EngineNext, want: etAllBut("open")},
		{cond: "evt.type = open or always_true", engine: EngineNext, want: etAll},
		{cond: "evt.type = open and not always_true", engine: EngineNext, want: etNone},
	}
	require.GreaterOrEqual(t, len(cases), 30, "cases")
	for _, c := range cases {
		engine := c.engine
		if engine.IsZero() {
			engine = Engine044
		}
		t.Run(engine.String()+"/"+c.cond, func(t *testing.T) {
			_, r := loadEvttypeRule(t, evttypeRule(c.cond), engine)
			assert.True(t, r.EventTypes.Equal(c.want), "%q at %s: event types %q, want %q", c.cond, engine, r.EventTypes, c.want)
			assert.Equal(t, c.want.Codes(), r.EventTypes.Codes(), "%q: event codes", c.cond)
		})
	}
}

// TestEvtNumInvariantLiterals checks how evt.num literals are read: as
// libsinsp's sinsp_numparser::tryparseu64 (sscanf "%" PRIu64 "%c") does.
func TestEvtNumInvariantLiterals(t *testing.T) {
	for _, c := range []struct {
		in string
		n  uint64
		ok bool
	}{
		{"0", 0, true}, {"+0", 0, true}, {"-0", 0, true}, {" 0", 0, true}, {"007", 7, true},
		{"1", 1, true}, {"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", math.MaxUint64, true}, // strtoull saturates
		{"-1", math.MaxUint64, true},                   // and wraps negative numbers
		{"-18446744073709551615", 1, true},
		{"", 0, false}, {" ", 0, false}, {"-", 0, false}, {"0 ", 0, false}, {"0x0", 0, false},
		{"0b0", 0, false}, {"0o0", 0, false}, {"1_0", 0, false}, {"1.5", 0, false}, {"1e3", 0, false},
	} {
		n, ok := parseU64(c.in)
		if assert.Equal(t, c.ok, ok, "parseU64(%q) ok", c.in) && ok {
			assert.Equal(t, c.n, n, "parseU64(%q)", c.in)
		}
	}
	// ut: check_evt_num_invariants, "evt.num=0x0" stays undecided.
	for cond, decided := range map[string]bool{"evt.num = 0x0": false, "evt.num in (0, 0x0)": false,
		"evt.num = 0": true, "evt.num < 1": true, "evt.num[1] = 0": false, "evt.num = val(evt.num)": false} {
		e, err := condition.Parse(cond)
		require.NoError(t, err)
		_, ok := evtNumInvariant(e.(*condition.BinaryCheck))
		assert.Equal(t, decided, ok, "%q decided", cond)
	}
}

func TestEventTypesSetMethods(t *testing.T) {
	s := EventTypesOf("openat", "open", "open")
	assert.Equal(t, []string{"open", "openat"}, s.Names())
	assert.False(t, s.All())
	assert.False(t, s.Negated())
	assert.Equal(t, "open, openat", s.String())
	assert.Equal(t, fields.EventCodes("open")+fields.EventCodes("openat"), s.Codes())
	c := s.Complement()
	assert.True(t, c.Negated(), "complement")
	assert.False(t, c.All(), "complement")
	assert.Equal(t, []string{"open", "openat"}, c.Listed(), "complement")
	assert.Equal(t, "all except open, openat", c.String())
	assert.Equal(t, fields.AllEventCodes()-s.Codes(), c.Codes(), "complement codes")
	names := c.Names()
	assert.Len(t, names, len(fields.EventNames())-2, "complement names")
	assert.NotContains(t, names, "open")
	assert.NotContains(t, names, "openat")
	assert.True(t, AllEventTypes().All())
	assert.Equal(t, "all", AllEventTypes().String())
	assert.Equal(t, fields.AllEventCodes(), AllEventTypes().Codes())
	assert.Equal(t, "none", EventTypesOf().String())
	assert.Zero(t, EventTypesOf().Codes())
	assert.True(t, AllEventTypes().Contains(s))
	assert.False(t, s.Contains(AllEventTypes()))
	assert.True(t, s.Contains(EventTypesOf("open")))
}

// TestEventTypeSearchErrors checks the conditions on which libsinsp's event
// code search throws (ppm_codes.cpp, visit(binary_check_expr) and
// visit(field_transformer_expr); ut: field_transformers). Falco computes the
// codes of every syscall rule, so these rules fail to load.
func TestEventTypeSearchErrors(t *testing.T) {
	for _, c := range []struct {
		cond string
		msg  string // "" means the rule loads
	}{
		{"b64(evt.type) = close", msgEvtTypeTransformer},
		{"not b64(evt.type) != close", msgEvtTypeTransformer},
		{"tolower(evt.type) in (open)", msgEvtTypeTransformer},
		{"evt.type = open and toupper(tolower(syscall.type)) = OPEN", msgEvtTypeTransformer},
		// The left side of a unary check is always visited.
		{"tolower(evt.type) exists", msgEvtTypeTransformer},
		{"evt.type = b64(proc.name)", "right-hand field comparisons"},
		{"evt.type != val(proc.name)", "right-hand field comparisons"},
		// Not an evt.type operator: the left side is not visited.
		{"tolower(evt.type) contains open", ""},
		{"b64(proc.name) = cat", ""},
		{"proc.name = b64(fd.name)", ""},
		{"evt.type[0] = open", "does not take an argument"},
	} {
		t.Run(c.cond, func(t *testing.T) {
			rs := LoadBytes("e.yaml", []byte(evttypeRule(c.cond)), Options{Engine: Engine044})
			var errs []string
			for _, f := range rs.Findings {
				if f.Severity == diag.Error {
					errs = append(errs, f.Code+" "+f.Message)
				}
			}
			if c.msg == "" {
				require.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0], ErrCompileCondition)
			assert.Contains(t, errs[0], c.msg)
			r := rs.Rule("R")
			require.NotNil(t, r)
			assert.Nil(t, r.Compiled, "rule should not compile")
		})
	}
}

// TestEventTypeUnknownNames: libsinsp validates evt.type values against the
// event table, the syscall names and the plugins' async events
// (sinsp_filter_check_event::validate_filter_value, "unknown event type");
// Falco reports it as LOAD_ERR_COMPILE_CONDITION, or as the warning
// LOAD_UNKNOWN_FILTER and skips the rule with skip-if-unknown-filter.
func TestEventTypeUnknownNames(t *testing.T) {
	for _, cond := range []string{"evt.type = nosuchevent", "evt.type in (open, nosuchevent)", "not evt.type != nosuchevent"} {
		rs := LoadBytes("u.yaml", []byte(evttypeRule(cond)), Options{Engine: Engine044})
		assert.Equal(t, ErrCompileCondition, findingCodes(rs.Findings, diag.Error), "%q: errors", cond)
		assert.True(t, hasFindingMessage(rs.Findings, "unknown event type nosuchevent"), "%q: no 'unknown event type' message in %v", cond, rs.Findings)
		rs = LoadBytes("u.yaml", []byte(evttypeRule(cond, "skip-if-unknown-filter: true")), Options{Engine: Engine044})
		assert.Empty(t, findingCodes(rs.Findings, diag.Error), "%q with skip-if-unknown-filter: errors", cond)
		assert.Contains(t, findingCodes(rs.Findings, diag.Warning), WarnUnknownFilter, "%q with skip-if-unknown-filter: warnings", cond)
		if r := rs.Rule("R"); assert.NotNil(t, r, "%q with skip-if-unknown-filter", cond) {
			assert.True(t, r.Skipped, "%q with skip-if-unknown-filter: rule not skipped", cond)
		}
	}
}

// codes lists the codes of the findings of a severity, excluding the
// unused-macro/list warnings the shared header produces.
func findingCodes(fs diag.Findings, sev diag.Severity) string {
	var out []string
	for _, f := range fs {
		if f.Severity == sev && f.Code != WarnUnusedMacro && f.Code != WarnUnusedList {
			out = append(out, f.Code)
		}
	}
	return strings.Join(out, ",")
}

func hasFindingMessage(fs diag.Findings, s string) bool {
	for _, f := range fs {
		if strings.Contains(f.Message, s) {
			return true
		}
	}
	return false
}

// dedicated100 are syscall events with their own event-table entries (no
// code shared with another name) whose codes add up to exactly 100:
// execve 16, clone 8, accept 8, fork 6, vfork 6, thirteen names with 4 codes
// and open, close with 2 each.
var dedicated100 = []string{"execve", "clone", "accept", "fork", "vfork",
	"unlinkat", "unlink", "umount", "select", "rmdir", "openat", "mkdir", "linkat", "link", "ioctl", "dup", "brk", "bpf",
	"open", "close"}

// TestNoEvttypeWarning: Falco's rule compiler (rule_loader_compiler.cpp,
// compile_rule_infos) warns LOAD_NO_EVTTYPE when a syscall rule's event code
// set has more than 100 codes, or none before Falco master, and
// warn_evttypes is true. Rules of other
// sources are not searched.
func TestNoEvttypeWarning(t *testing.T) {
	require.Equal(t, 100, EventTypesOf(dedicated100...).Codes(), "dedicated100 codes (events table changed?)")
	list := strings.Join(dedicated100, ", ")
	for _, c := range []struct {
		name   string
		src    string
		engine Version
		warn   bool
	}{
		{"exactly 100 codes", evttypeRule("evt.type in (" + list + ")"), Engine044, false},
		// signaldeliver is a dedicated single-code event.
		{"101 codes", evttypeRule("evt.type in (" + list + ", signaldeliver)"), Engine044, true},
		{"101 codes, warn_evttypes false", evttypeRule("evt.type in ("+list+", signaldeliver)", "warn_evttypes: false"), Engine044, false},
		{"no evt.type", evttypeRule("proc.name = bash"), Engine044, true},
		{"no evt.type, warn_evttypes false", evttypeRule("proc.name = bash", "warn_evttypes: false"), Engine044, false},
		{"all but one", evttypeRule("evt.type != open"), Engine044, true},
		{"negated macro", evttypeRule("not spawned_process"), Engine044, true},
		{"one event", evttypeRule("evt.type = open"), Engine044, false},
		// Every release up to 0.44.1 warns on an empty set too
		// ("evttypes.empty() || evttypes.size() > 100"); Falco master
		// exempts it (its comment on the never_true idiom). At 0.62.0
		// evt.num=0 is neutral, so never_true has all codes.
		{"no event", evttypeRule("evt.type = open and evt.type = close"), Engine044, true},
		{"no event, engine 0.63.0", evttypeRule("evt.type = open and evt.type = close"), EngineNext, false},
		{"never_true, engine 0.63.0", evttypeRule("never_true"), EngineNext, false},
		{"never_true, engine 0.62.0", evttypeRule("never_true"), Engine044, true},
		{"k8s_audit rule", `
- rule: R
  desc: d
  priority: INFO
  output: o %ka.verb
  source: k8s_audit
  condition: ka.verb = create
`, Engine044, false},
		{"warn_evttypes replaced", evttypeRule("proc.name = bash") + `
- rule: R
  warn_evttypes: false
  override:
    warn_evttypes: replace
`, Engine044, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs := LoadBytes("n.yaml", []byte(c.src), Options{Engine: c.engine})
			require.Empty(t, findingCodes(rs.Findings, diag.Error), "errors: %v", rs.Findings)
			var got []diag.Finding
			for _, f := range rs.Findings {
				if f.Code == WarnNoEvttype {
					got = append(got, f)
				}
			}
			want := 0
			if c.warn {
				want = 1
			}
			require.Len(t, got, want, "LOAD_NO_EVTTYPE findings (event types %s, %d codes)", rs.Rule("R").EventTypes, rs.Rule("R").EventTypes.Codes())
			if c.warn {
				assert.Equal(t, "rule 'R'", got[0].Item)
				assert.Equal(t, diag.Warning, got[0].Severity)
				assert.Equal(t, "Rule matches too many evt.type values. This has a significant performance penalty.", got[0].Message)
			}
		})
	}
}

// TestEventCodesSharedByNames documents a known divergence. libsinsp's
// names_to_event_set maps every syscall without a dedicated event (acct,
// add_key, getpid, ...) to the same two generic codes PPME_GENERIC_E/X, and
// plugin async event names to the one code PPME_ASYNCEVENT_E, so Falco's
// LOAD_NO_EVTTYPE count (a set size) counts shared codes once. EventTypes
// sums fields.EventCodes per name, which counts them once per name; the
// fields catalog does not say which names share codes, so this cannot be
// fixed in evttype.go alone. It only matters for the > 100 threshold when a
// rule lists more than 50 generic syscalls (or negates more than ~175).
func TestEventCodesSharedByNames(t *testing.T) {
	if got := EventTypesOf("acct", "add_key", "getpid").Codes(); got != 2 {
		t.Skipf("known divergence: Codes() of three generic syscalls = %d, Falco counts the 2 shared generic codes", got)
	}
}
