package rules

import (
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"regexp/syntax"
	"strings"

	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

// EngineTypeChecks is the engine whose libsinsp (libs 0.17.0, Falco
// 0.38) checks at compile time that an operator fits the field's type
// (filter.cpp check_op_type_compatibility, filter_compare.cpp
// flt_is_comparable).
var EngineTypeChecks = Engine038

// typeFamily is the family flt_is_comparable sorts a field type into; ""
// for types it is not known for here (dynamic, unknown).
func typeFamily(t string) string {
	switch t {
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "errno", "fd", "pid",
		"syscallid", "sigtype", "reltime", "abstime", "port", "flags8", "flags16", "flags32", "double", "mode",
		"enumflags8", "enumflags16", "enumflags32":
		return "numeric"
	case "bool":
		return "bool"
	case "ipaddr", "ipnet", "ipv4addr", "ipv4net", "ipv6addr", "ipv6net":
		return "ip"
	case "charbuf", "fspath", "fsrelpath":
		return "string"
	case "bytebuf":
		return "buffer"
	}
	return ""
}

// operatorsOf are the operators flt_is_comparable allows per family
// (exists is always allowed), and the words of its refusal.
var operatorsOf = map[string]struct {
	ops  []string
	what string
}{
	"numeric": {[]string{"=", "!=", "<", "<=", ">", ">=", "in", "intersects"}, "numeric filters"},
	// libsinsp words the bool refusal as numeric too.
	"bool":   {[]string{"=", "!=", "in", "intersects"}, "numeric filters"},
	"ip":     {[]string{"=", "!=", "in", "intersects"}, "ip address and network filters"},
	"string": {[]string{"=", "!=", "<", "<=", ">", ">=", "contains", "in", "icontains", "startswith", "glob", "pmatch", "endswith", "intersects", "iglob", "regex"}, "string filters"},
	"buffer": {[]string{"=", "!=", "contains", "in", "startswith", "endswith", "intersects", "bcontains", "bstartswith"}, "buffer filters"},
	"list":   {[]string{"in", "intersects"}, "list filters"},
}

// baseOperator is op without a modifier, as libsinsp names it ("==" is
// "=").
func baseOperator(op string) string {
	op, _, _ = strings.Cut(op, " ")
	if op == "==" {
		return "="
	}
	return op
}

// checkTypes applies libsinsp's compile-time checks to a plain field
// compared with values: the operator must fit the field's type (from
// EngineTypeChecks), bcontains and bstartswith take even-length hex, and
// the values must parse as the field's type (value_parser.cpp
// string_to_rawval) for booleans and addresses. Numbers are checked by
// checkNumbers.
func (c *compiler) checkTypes(fd fields.Field, x *condition.BinaryCheck) *problem {
	family := typeFamily(fd.Type)
	op := baseOperator(x.Op)
	if !c.engine.Less(EngineTypeChecks) {
		if p := operatorProblem(family, fd.List, op); p != nil {
			return p
		}
	}
	if fd.Type != "bytebuf" {
		for v := range rightValues(x) {
			if strings.IndexByte(v, 0) >= 0 {
				return &problem{code: ErrCompileCondition, msg: `filter error: filter value cannot contain a NUL byte (\x00)`}
			}
		}
	}
	if !checksValues(fd.Type, op) {
		return nil
	}
	values := rightValues(x)
	if op == "bcontains" || op == "bstartswith" {
		for v := range values {
			if !isHex(v) {
				return &problem{code: ErrCompileCondition, msg: "filter error: bcontains and bstartswith operator support hex strings only"}
			}
		}
		return nil
	}
	if op == "regex" && !c.engine.Less(EngineRegexCheck) {
		for v := range values {
			if msg := RegexProblem(v); msg != "" {
				return &problem{code: ErrCompileCondition, msg: msg}
			}
		}
	}
	if op == "in" || op == "intersects" || op == "pmatch" {
		if _, ok := x.Right.(*condition.List); !ok {
			return nil // a name that is no list: compared as Falco compares it
		}
	}
	for v := range values {
		if msg := parseValue(fd.Type, v); msg != "" {
			return &problem{code: ErrCompileCondition, msg: msg}
		}
	}
	return nil
}

// checksValues reports whether a check of type t with operator op has
// values to parse: most string checks have none, and they are most checks.
func checksValues(t, op string) bool {
	switch op {
	case "bcontains", "bstartswith", "regex":
		return true
	}
	switch t {
	case "bool", "ipaddr", "ipv4addr", "ipv6addr", "ipnet", "ipv4net", "ipv6net", "double":
		return true
	}
	return false
}

// rightValues are the constant values on the right of x, without
// allocating per check.
func rightValues(x *condition.BinaryCheck) iter.Seq[string] {
	return func(yield func(string) bool) {
		switch r := x.Right.(type) {
		case *condition.Value:
			yield(r.Value)
		case *condition.List:
			for _, v := range r.Values {
				if !yield(v) {
					return
				}
			}
		}
	}
}

// parseValue is string_to_rawval's refusal of v for field type t, "" if
// it parses.
func parseValue(t, v string) string {
	switch t {
	case "bool":
		if v != "true" && v != "false" {
			return "filter error: unrecognized boolean value " + v
		}
	case "ipaddr", "ipv4addr", "ipv6addr":
		if strings.Contains(v, ".") || t == "ipv4addr" {
			if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
				return "unrecognized IPv4 address " + v
			}
		} else if _, err := netip.ParseAddr(v); err != nil {
			return "unrecognized IPv6 address " + v
		}
	case "ipnet", "ipv4net", "ipv6net":
		if t == "ipv6net" || (t == "ipnet" && !strings.Contains(v, ".")) {
			return parseIPv6Net(v)
		}
		ip, mask, ok := strings.Cut(v, "/")
		if !ok {
			return "unrecognized IP network " + v
		}
		if a, err := netip.ParseAddr(ip); err != nil || !a.Is4() {
			return "unrecognized IP address " + v
		}
		if n, ok := parseUint(mask); !ok {
			return mask + " is not a valid number"
		} else if n > 32 {
			return "invalid netmask " + mask
		}
	case "double":
		// libsinsp never parsed floating point values: a double field
		// takes 32-bit integers only.
		if !isDecimal(v) {
			return v + " is not a valid number"
		}
	}
	return ""
}

// parseIPv6Net is tuples.cpp ipv6net's refusal of v.
func parseIPv6Net(v string) string {
	ip, mask, ok := strings.Cut(v, "/")
	if !ok {
		return "invalid v6 netmask: " + v
	}
	if a, err := netip.ParseAddr(ip); err != nil || !a.Is6() || a.Zone() != "" {
		return "unrecognized IPv6 address " + v
	}
	n, ok := parseUint(mask)
	switch {
	case !ok:
		return mask + " is not a valid number"
	case n == 0 || n > 128:
		return "invalid v6 netmask " + mask
	}
	return ""
}

func parseUint(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// isHex reports whether v is an even number of hex digits (sinsp_utils::unhex).
func isHex(v string) bool {
	if len(v)%2 != 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch ch := v[i]; {
		case ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'f', ch >= 'A' && ch <= 'F':
		default:
			return false
		}
	}
	return true
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// EngineRegexCheck is the engine whose libsinsp (libs 0.24.0, Falco 0.44)
// compiles regex operands when it compiles the filter; earlier ones fail
// at the first event.
var EngineRegexCheck = Engine044

// re2Texts are RE2's words for each parse error of Go's regexp/syntax
// (the same RE2 syntax).
var re2Texts = map[syntax.ErrorCode]string{
	syntax.ErrMissingBracket:        "missing ]",
	syntax.ErrMissingParen:          "missing )",
	syntax.ErrUnexpectedParen:       "unexpected )",
	syntax.ErrInvalidEscape:         "invalid escape sequence",
	syntax.ErrInvalidCharRange:      "invalid character class range",
	syntax.ErrInvalidCharClass:      "invalid character class",
	syntax.ErrMissingRepeatArgument: "no argument for repetition operator",
	syntax.ErrInvalidRepeatOp:       "bad repetition operator",
	syntax.ErrInvalidRepeatSize:     "bad repetition operator",
	syntax.ErrInvalidPerlOp:         "invalid perl operator",
	syntax.ErrTrailingBackslash:     "trailing \\",
	syntax.ErrInvalidUTF8:           "invalid UTF-8",
	syntax.ErrNestingDepth:          "pattern too large - compile failed",
	syntax.ErrLarge:                 "pattern too large - compile failed",
	syntax.ErrInvalidNamedCapture:   "invalid named capture group",
}

// RegexProblem is libsinsp's refusal of a regex operand, compiled as RE2
// in POSIX mode (no Perl classes such as \d), or "" when it compiles.
func RegexProblem(pattern string) string {
	_, err := syntax.Parse(pattern, syntax.ClassNL)
	if err == nil {
		return ""
	}
	var se *syntax.Error
	if errors.As(err, &se) {
		if text, ok := re2Texts[se.Code]; ok {
			return "invalid regex pattern: " + text + ": " + se.Expr
		}
	}
	return "invalid regex pattern: " + err.Error()
}

// operatorProblem is flt_is_comparable's refusal of op on a value of the
// family (a list when list), nil when it fits or the family is unknown.
func operatorProblem(family string, list bool, op string) *problem {
	if family == "" {
		return nil
	}
	allowed := family
	if list {
		allowed = "list"
	}
	a := operatorsOf[allowed]
	if contains(a.ops, op) {
		return nil
	}
	msg := fmt.Sprintf("filter error: '%s' operator not supported for %s", op, a.what)
	if allowed == "list" {
		msg = fmt.Sprintf("filter error: '%s' operator not supported list filters", op)
	}
	return &problem{code: ErrCompileCondition, msg: msg}
}
