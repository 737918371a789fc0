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

// EngineValueWarnings is the engine whose libsinsp (libs 0.18.0, Falco
// 0.39) warns about suspicious constant values (filter.cpp
// check_value_and_add_warnings); Falco reports them as
// LOAD_COMPILE_CONDITION warnings.
var EngineValueWarnings = Engine039

// valueWarnings are libsinsp's warnings about x's constant values: a
// regex a simpler operator could check, a value that is a field name
// (val() forgotten), a value that looks like a transformer.
func (c *compiler) valueWarnings(source string, x *condition.BinaryCheck) []string {
	if c.engine.Less(EngineValueWarnings) {
		return nil
	}
	var out []string
	regex := baseOperator(x.Op) == "regex"
	for v := range rightValues(x) {
		nospaces := v
		if strings.ContainsAny(v, " \t\n\r\v\f") {
			nospaces = strings.Join(strings.Fields(v), "")
		}
		if regex && regexCouldBeSimpler(v) {
			out = append(out, "regex check with '"+v+"' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'")
		}
		if looksLikeField(nospaces) && c.isField(source, nospaces) {
			out = append(out, "'"+v+"' may be a valid field misused as a const string value")
		}
		if strings.HasSuffix(nospaces, ")") {
			for t, since := range transformerSince {
				if !c.engine.Less(since) && len(nospaces) >= len(t)+2 && strings.HasPrefix(nospaces, t+"(") {
					out = append(out, "'"+v+"' may be a valid field transformer misused as a const string value")
					break
				}
			}
		}
	}
	return out
}

// looksLikeField is a cheap test before isField: field names start with a
// lower-case letter and have a dot (paths and numbers do not qualify).
func looksLikeField(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && strings.IndexByte(s, '.') > 0
}

// isField reports whether s names a field of source, remembered per
// value: list items are checked once per load, not once per rule.
func (c *compiler) isField(source, s string) bool {
	bySource := c.fieldValues[source]
	if known, ok := bySource[s]; ok {
		return known
	}
	_, err := (&loader{engine: c.engine}).lookupField(source, s)
	if bySource == nil {
		if c.fieldValues == nil {
			c.fieldValues = map[string]map[string]bool{}
		}
		bySource = map[string]bool{}
		c.fieldValues[source] = bySource
	}
	bySource[s] = err == nil
	return err == nil
}

// regexCouldBeSimpler is libsinsp's heuristic: no regex special character
// but the implicit anchors and a leading or trailing ".*" / ".+" / ".?".
func regexCouldBeSimpler(v string) bool {
	const special, occurrence = ".+*?^$()[]{}|\\", "+*?"
	n := len(v)
	for i := 0; i < n; i++ {
		if (i == 0 && v[i] == '^') || (i == n-1 && v[i] == '$') {
			continue
		}
		if ((i == 0 && n > 1) || i == n-2) && v[i] == '.' && i+1 < n && strings.IndexByte(occurrence, v[i+1]) >= 0 {
			i++
			continue
		}
		if strings.IndexByte(special, v[i]) >= 0 {
			return false
		}
	}
	return true
}

// transformedType is the type libsinsp gives e (a field, or transformers
// around one): the field's type and whether it is a list, as each
// transformer's transform_type changes them, or the refusal of
// sinsp_filter_check::add_transformer. ok is false when the type is not
// known here (a transformer of several arguments, an unknown field).
func transformedType(source string, e condition.Expr) (t string, list, ok bool, msg string) {
	switch x := e.(type) {
	case *condition.Field:
		fd, dotted, found := fields.Lookup(source, x.Name)
		if !found || dotted != "" || fd.Type == "" || fd.Type == "dyn" {
			return "", false, false, ""
		}
		return fd.Type, fd.List, true, ""
	case *condition.Transformer:
		if len(x.Args) != 1 {
			return "", false, false, ""
		}
		if f, direct := x.Args[0].(*condition.Field); direct && x.Name != "val" {
			if fd, _, found := fields.Lookup(source, f.Name); found && noTransformer(fd.Name) {
				return "", false, true, "field '" + fd.Name + "' does not support transformers"
			}
		}
		t, list, ok, msg = transformedType(source, x.Args[0])
		if !ok || msg != "" {
			return t, list, ok, msg
		}
		field := innerField(x)
		refuse := func() (string, bool, bool, string) {
			on := "field"
			if list {
				on = "list field"
			}
			return t, list, true, fmt.Sprintf("can't add field transformer: type '%s' is not supported by '%s' transformer applied on %s '%s'", strings.ToUpper(t), x.Name, on, field)
		}
		switch x.Name {
		case "tolower", "toupper", "basename":
			if t != "charbuf" && t != "fspath" && t != "fsrelpath" {
				return refuse()
			}
		case "b64":
			if t != "charbuf" && t != "bytebuf" {
				return refuse()
			}
		case "len":
			if !list && t != "charbuf" && t != "bytebuf" && t != "fspath" && t != "fsrelpath" {
				return refuse()
			}
			return "uint64", false, true, ""
		case "val": // the identity: a right-hand side field
			return t, list, true, ""
		default:
			return "", false, false, ""
		}
		return t, list, true, ""
	}
	return "", false, false, ""
}

// innerField is the field a chain of transformers applies to.
func innerField(x *condition.Transformer) string {
	for {
		if len(x.Args) != 1 {
			return ""
		}
		switch a := x.Args[0].(type) {
		case *condition.Field:
			return a.Name
		case *condition.Transformer:
			x = a
		default:
			return ""
		}
	}
}

// checkTransformed applies libsinsp's checks to transformers on the left
// of a check: each transformer must accept the type it is given, and the
// operator must fit the transformed type (EngineTypeChecks).
func (c *compiler) checkTransformed(source string, tr *condition.Transformer, op string) *problem {
	if c.engine.Less(EngineTypeChecks) {
		return nil
	}
	if msg := multiValueProblem(source, tr); msg != "" {
		return &problem{code: ErrCompileCondition, msg: msg}
	}
	t, list, ok, msg := transformedType(source, tr)
	if msg != "" { // thrown by add_transformer, without the compiler's "filter error: "
		return &problem{code: ErrCompileCondition, msg: msg}
	}
	if !ok || op == "exists" {
		return nil
	}
	return operatorProblem(typeFamily(t), list, baseOperator(op))
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

// argType is a multi-value transformer argument's type as libsinsp's
// argument_types() gives it: a string literal is a single CHARBUF, a
// parenthesized list a list.
func argType(source string, e condition.Expr) (t string, list, ok bool) {
	switch e.(type) {
	case *condition.Value:
		return "charbuf", false, true
	case *condition.TransformerList:
		return "charbuf", true, true
	}
	t, list, ok, msg := transformedType(source, e)
	return t, list, ok && msg == ""
}

// multiValueProblem is libsinsp's refusal of a join() or concat()
// (sinsp_filtercheck_multivalue_transformer.cpp), "" when it fits or is
// not known here.
func multiValueProblem(source string, tr *condition.Transformer) string {
	switch tr.Name {
	case "join":
		if len(tr.Args) != 2 {
			return "join() requires exactly 2 arguments: separator and list"
		}
		if _, list, ok := argType(source, tr.Args[0]); ok && list {
			return "join() first argument (separator) must be a single value, not a list"
		}
		if _, list, ok := argType(source, tr.Args[1]); ok && !list {
			return "join() second argument must be a list"
		}
	case "concat":
		if len(tr.Args) < 2 {
			return "concat() requires at least 2 arguments"
		}
		for _, a := range tr.Args {
			if t, list, ok := argType(source, a); ok && (t != "charbuf" || list) {
				return "concat() arguments must be strings"
			}
		}
	}
	return ""
}

// transformerArgProblem is libsinsp's refusal of a field argument on a
// transformer (filter.cpp, sinsp_filtercheck_multivalue_transformer.cpp):
// only getopt takes one.
func transformerArgProblem(x *condition.Transformer) string {
	if !x.HasArg || x.Name == "getopt" {
		return ""
	}
	if x.Name == "val" || len(x.Args) == 1 {
		return "filter error: transformer '" + x.Name + "' does not support field arguments"
	}
	return "transformer '" + x.Name + "' does not support field arguments"
}

// noRHS are the fields libsinsp flags EPF_NO_RHS (libs 0.17): they can be
// neither compared with a right-hand side field nor be one.
var noRHS = map[string]bool{
	"evt.around": true, "evt.rawarg": true, "fd.cip.name": true, "fd.cnet": true, "fd.ip": true, "fd.lip.name": true,
	"fd.lnet": true, "fd.net": true, "fd.port": true, "fd.proto": true, "fd.rip.name": true, "fd.rnet": true,
	"fd.sip.name": true, "fd.snet": true, "fd.types": true, "proc.acmdline": true, "proc.aenv": true, "proc.aexe": true,
	"proc.aexepath": true, "proc.aname": true, "proc.apid": true,
}

// rhsFieldProblem is libsinsp's refusal of a right-hand side field
// (sinsp_filtercheck.cpp add_filter_value, check_rhs_field_type_consistency):
// both sides must allow it, and their types (after transformers) must be
// the same, list or not alike.
func (c *compiler) rhsFieldProblem(source string, x *condition.BinaryCheck) *problem {
	rhs, ok := x.Right.(*condition.Transformer)
	if !ok || c.engine.Less(EngineTypeChecks) {
		return nil
	}
	lname, rname := canonical(source, leftField(x.Left)), canonical(source, innerField(rhs))
	switch {
	case noRHS[lname]:
		return &problem{code: ErrCompileCondition, msg: "field '" + lname + "' doesn't support right-hand side fields"}
	case noRHS[rname]:
		return &problem{code: ErrCompileCondition, msg: "field '" + rname + "' can't be used as a right-hand side field"}
	}
	lt, llist, lok, lmsg := transformedType(source, x.Left)
	rt, rlist, rok, rmsg := transformedType(source, rhs)
	if !lok || !rok || lmsg != "" || rmsg != "" || (lt == rt && llist == rlist) {
		return nil
	}
	kind := func(t string, list bool) string {
		if list {
			return strings.ToUpper(t) + " (list)"
		}
		return strings.ToUpper(t)
	}
	return &problem{code: ErrCompileCondition, msg: fmt.Sprintf("field '%s' has type '%s' while the right-hand side field '%s' has incompatible type '%s'",
		lname, kind(lt, llist), rname, kind(rt, rlist))}
}

// leftField is the field of a check's left side, under any transformers.
func leftField(e condition.Expr) string {
	switch x := e.(type) {
	case *condition.Field:
		return x.Name
	case *condition.Transformer:
		return innerField(x)
	}
	return ""
}

// noTransformer reports whether libsinsp flags the field
// EPF_NO_TRANSFORMER: the EPF_NO_RHS fields but fd.types.
func noTransformer(name string) bool { return noRHS[name] && name != "fd.types" }

// canonical is a field's catalog name: evt.arg.fd is evt.arg.
func canonical(source, name string) string {
	if fd, _, ok := fields.Lookup(source, name); ok {
		return fd.Name
	}
	return name
}
