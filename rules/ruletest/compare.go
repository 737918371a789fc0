package ruletest

import (
	"cmp"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Operators as libsinsp's str_to_cmpop names them (filter_compare.cpp).
const (
	opEQ          = "="
	opNE          = "!="
	opLT          = "<"
	opLE          = "<="
	opGT          = ">"
	opGE          = ">="
	opContains    = "contains"
	opIContains   = "icontains"
	opBContains   = "bcontains"
	opStartswith  = "startswith"
	opBStartswith = "bstartswith"
	opEndswith    = "endswith"
	opGlob        = "glob"
	opIGlob       = "iglob"
	opPmatch      = "pmatch"
	opIn          = "in"
	opIntersects  = "intersects"
	opExists      = "exists"
	opRegex       = "regex"
)

// Operator modifiers (Falco 0.44): "startswith anyof (a, b)".
const (
	modNone = iota
	modOneOf
	modAnyOf
	modAllOf
)

// splitOperator splits "startswith anyof" into the operator and modifier,
// as str_to_cmpop_with_modifier does; "==" is "=".
func splitOperator(s string) (op string, mod int, err error) {
	op, m, hasMod := strings.Cut(s, " ")
	if op == "==" {
		op = opEQ
	}
	switch op {
	case opEQ, opNE, opLT, opLE, opGT, opGE, opContains, opIContains, opBContains, opStartswith,
		opBStartswith, opEndswith, opGlob, opIGlob, opPmatch, opIn, opIntersects, opExists, opRegex:
	default:
		return "", 0, fmt.Errorf("unrecognized filter comparison operator '%s'", op)
	}
	if !hasMod {
		return op, modNone, nil
	}
	switch m {
	case "oneof":
		return op, modOneOf, nil
	case "anyof":
		return op, modAnyOf, nil
	case "allof":
		return op, modAllOf, nil
	}
	return "", 0, fmt.Errorf("unrecognized filter comparison modifier '%s'", m)
}

// checkComparable reports whether an operator applies to a field type, with
// libsinsp's error text (flt_is_comparable in filter_compare.cpp).
func checkComparable(op string, t ftype) error {
	if op == opExists {
		return nil
	}
	in := func(ops ...string) bool { return slices.Contains(ops, op) }
	if t.list {
		switch t.kind {
		case kString, kBool, kIPAddr, kIPNet:
		case kUint:
			if t.bits != 64 {
				return fmt.Errorf("list filters are not supported for type '%s'", t.name)
			}
		default:
			return fmt.Errorf("list filters are not supported for type '%s'", t.name)
		}
		if !in(opIn, opIntersects) {
			return fmt.Errorf("'%s' operator not supported list filters", op)
		}
		return nil
	}
	ok := false
	what := ""
	switch t.kind {
	case kInt, kUint, kDouble:
		ok, what = in(opEQ, opNE, opLT, opLE, opGT, opGE, opIn, opIntersects), "numeric"
	case kBool:
		ok, what = in(opEQ, opNE, opIn, opIntersects), "numeric"
	case kIPAddr, kIPNet:
		ok, what = in(opEQ, opNE, opIn, opIntersects), "ip address and network"
	case kString:
		ok, what = in(opEQ, opNE, opLT, opLE, opGT, opGE, opContains, opIn, opIContains, opStartswith,
			opGlob, opPmatch, opEndswith, opIntersects, opIGlob, opRegex), "string"
	case kBytes:
		ok, what = in(opEQ, opNE, opContains, opIn, opStartswith, opEndswith, opIntersects,
			opBContains, opBStartswith), "buffer"
	case kDyn:
		// evt.rawarg takes the event parameter's type at run time; the
		// evaluator compares numbers as numbers and anything else as text.
		ok = in(opEQ, opNE, opLT, opLE, opGT, opGE, opIn, opIntersects, opContains, opStartswith, opEndswith)
		what = "dynamic"
	}
	if !ok {
		return fmt.Errorf("'%s' operator not supported for %s filters", op, what)
	}
	return nil
}

// compare is flt_compare (filter_compare.cpp) for one extracted value a and
// one constant b of type t. pmatch and regex are handled by the caller.
func compare(op string, t ftype, a, b value) bool {
	switch t.kind {
	case kString:
		return compareString(op, a.s, b.s)
	case kBytes:
		switch op {
		case opContains, opBContains:
			return strings.Contains(a.s, b.s)
		case opStartswith, opBStartswith:
			return strings.HasPrefix(a.s, b.s)
		case opEndswith:
			return strings.HasSuffix(a.s, b.s)
		}
		return compareEqual(op, a.s, b.s)
	case kInt:
		return compareOrdered(op, int64(a.n), int64(b.n))
	case kUint:
		return compareOrdered(op, a.n, b.n)
	case kDouble:
		return compareOrdered(op, a.f, b.f)
	case kBool:
		return compareEqual(op, a.n, b.n)
	case kIPAddr:
		// an IPv4 value compared with an IPv6 constant (or the reverse):
		// the lengths differ, only != holds
		if a.ip.Is4() != b.ip.Is4() {
			return op == opNE
		}
		return compareEqual(op, a.ip, b.ip)
	case kIPNet:
		if a.ip.Is4() != b.net.Addr().Is4() {
			return op == opNE
		}
		switch op {
		case opEQ, opIn, opIntersects:
			return b.net.Contains(a.ip)
		case opNE:
			return !b.net.Contains(a.ip)
		}
	case kDyn:
		x, errA := scanInt(a.s, 64)
		y, errB := scanInt(b.s, 64)
		if errA == nil && errB == nil {
			return compareOrdered(op, int64(x), int64(y))
		}
		return compareString(op, a.s, b.s)
	}
	return false
}

// compareOrdered applies an equality or ordering operator; in and
// intersects compare one value of a set, so they mean equality here.
func compareOrdered[T cmp.Ordered](op string, a, b T) bool {
	switch op {
	case opLT:
		return a < b
	case opLE:
		return a <= b
	case opGT:
		return a > b
	case opGE:
		return a >= b
	}
	return compareEqual(op, a, b)
}

// compareEqual applies an equality operator; any other operator is false.
func compareEqual[T comparable](op string, a, b T) bool {
	switch op {
	case opEQ, opIn, opIntersects:
		return a == b
	case opNE:
		return a != b
	}
	return false
}

// compareString is flt_compare_string: strcmp, strstr, strcasestr, strncmp,
// endswith and fnmatch on C strings.
func compareString(op, a, b string) bool {
	a, b = cstr(a), cstr(b)
	switch op {
	case opContains:
		return strings.Contains(a, b)
	case opIContains:
		return containsFold(a, b)
	case opStartswith:
		return strings.HasPrefix(a, b)
	case opEndswith:
		return strings.HasSuffix(a, b)
	case opGlob:
		return fnmatch(b, a, false)
	case opIGlob:
		return fnmatch(b, a, true)
	}
	return compareOrdered(op, a, b) // strcmp on C strings: bytewise, as Go compares strings
}

// cstr cuts s at its first NUL byte, as C string functions see it.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// containsFold is strcasestr in the C locale: ASCII letters only.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lower(s[i+j]) == lower(sub[j]) {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// fnmatch implements glibc fnmatch(3) with flags 0 (or FNM_CASEFOLD), as
// sinsp_utils::glob_match calls it: '*' and '?' also match '/' and a
// leading '.', brackets support ranges, negation with '!' or '^' and
// [:class:], a backslash quotes the next character, and the text is
// compared byte by byte (C locale).
func fnmatch(pattern, s string, fold bool) bool {
	eq := func(a, b byte) bool {
		if fold {
			return lower(a) == lower(b)
		}
		return a == b
	}
	p, i := 0, 0
	starP, starI := -1, 0
	for {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				starP, starI = p, i
				continue
			case '?':
				if i < len(s) {
					p++
					i++
					continue
				}
			case '[':
				if i < len(s) {
					if matched, next, ok := matchBracket(pattern, p, s[i], fold); ok {
						if matched {
							p = next
							i++
							continue
						}
					} else if s[i] == '[' {
						// no closing ']': the '[' is an ordinary character
						p++
						i++
						continue
					}
				}
			case '\\':
				if p+1 >= len(pattern) {
					return false // a trailing backslash never matches
				}
				if i < len(s) && eq(pattern[p+1], s[i]) {
					p += 2
					i++
					continue
				}
			default:
				if i < len(s) && eq(c, s[i]) {
					p++
					i++
					continue
				}
			}
		} else if i == len(s) {
			return true
		}
		if starP < 0 || starI >= len(s) {
			return false
		}
		starI++
		p, i = starP, starI
	}
}

func isAlpha(c byte) bool { return 'a' <= lower(c) && lower(c) <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

var classes = map[string]func(byte) bool{
	"alpha":  isAlpha,
	"digit":  isDigit,
	"alnum":  func(c byte) bool { return isDigit(c) || isAlpha(c) },
	"upper":  func(c byte) bool { return 'A' <= c && c <= 'Z' },
	"lower":  func(c byte) bool { return 'a' <= c && c <= 'z' },
	"space":  func(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' },
	"blank":  func(c byte) bool { return c == ' ' || c == '\t' },
	"punct":  func(c byte) bool { return c > ' ' && c < 0x7f && !isDigit(c) && !isAlpha(c) },
	"print":  func(c byte) bool { return c >= ' ' && c < 0x7f },
	"graph":  func(c byte) bool { return c > ' ' && c < 0x7f },
	"cntrl":  func(c byte) bool { return c < ' ' || c == 0x7f },
	"xdigit": func(c byte) bool { return isDigit(c) || 'a' <= lower(c) && lower(c) <= 'f' },
}

// matchBracket matches c against the bracket expression starting at
// pattern[p] == '['. ok is false when the expression has no closing ']'.
func matchBracket(pattern string, p int, c byte, fold bool) (matched bool, next int, ok bool) {
	j := p + 1
	negate := false
	if j < len(pattern) && (pattern[j] == '!' || pattern[j] == '^') {
		negate = true
		j++
	}
	if fold {
		c = lower(c)
	}
	first := true
	for j < len(pattern) {
		ch := pattern[j]
		if ch == ']' && !first {
			return matched != negate, j + 1, true
		}
		first = false
		if ch == '[' && j+1 < len(pattern) && pattern[j+1] == ':' {
			end := strings.Index(pattern[j+2:], ":]")
			if end >= 0 {
				if f, known := classes[pattern[j+2:j+2+end]]; known {
					if f(c) || fold && (f(upper(c)) || f(lower(c))) {
						matched = true
					}
					j += end + 4
					continue
				}
			}
		}
		if ch == '\\' && j+1 < len(pattern) {
			j++
			ch = pattern[j]
		}
		lo := ch
		j++
		hi := lo
		if j+1 < len(pattern) && pattern[j] == '-' && pattern[j+1] != ']' {
			hi = pattern[j+1]
			if hi == '\\' && j+2 < len(pattern) {
				hi = pattern[j+2]
				j++
			}
			j += 2
		}
		if fold {
			lo, hi = lower(lo), lower(hi)
		}
		if lo <= c && c <= hi {
			matched = true
		}
	}
	return false, 0, false
}

// pathMatcher is libsinsp's path_prefix_search (prefix_search.h), used by
// pmatch: a value matches when the components of one of the search paths
// are a prefix of its components. Paths are split at '/', empty components
// are dropped (so "/etc/" is "/etc" and "etc" is "/etc"), and a search path
// component containing one of "?*[" is matched with fnmatch.
type pathMatcher struct {
	paths [][]string
}

func newPathMatcher(paths []string) *pathMatcher {
	m := &pathMatcher{}
	for _, p := range paths {
		m.paths = append(m.paths, splitPath(p))
	}
	return m
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func (m *pathMatcher) match(path string) bool {
	comps := splitPath(path)
next:
	for _, sp := range m.paths {
		if len(sp) > len(comps) {
			continue
		}
		for i, c := range sp {
			if strings.ContainsAny(c, "?*[") {
				if !fnmatch(c, comps[i], false) {
					continue next
				}
			} else if c != comps[i] {
				continue next
			}
		}
		return true
	}
	return false
}

// compileRegex compiles a regex operand as libsinsp does: RE2 with the
// POSIX option (egrep syntax, leftmost-longest, '^' and '$' also at line
// breaks, classes may match a newline, '.' does not). Matching is anchored
// at both ends (ANCHOR_BOTH in matches_rhs_regex).
func compileRegex(pattern string) (*regexp.Regexp, error) {
	if _, err := syntax.Parse(pattern, syntax.ClassNL); err != nil {
		return nil, fmt.Errorf("invalid regex pattern: %w", err)
	}
	re, err := regexp.Compile("(?m:" + pattern + ")")
	if err != nil {
		return nil, fmt.Errorf("invalid regex pattern: %w", err)
	}
	re.Longest()
	return re, nil
}

func fullMatch(re *regexp.Regexp, s string) bool {
	loc := re.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// unhex decodes the operand of bcontains and bstartswith
// (sinsp_utils::unhex: an even number of hex digits).
func unhex(s string) (string, error) {
	if len(s)%2 != 0 {
		return "", fmt.Errorf("bcontains and bstartswith operator support hex strings only")
	}
	b := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := hexDigit(s[i])
		lo, ok2 := hexDigit(s[i+1])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("bcontains and bstartswith operator support hex strings only")
		}
		b[i/2] = hi<<4 | lo
	}
	return string(b), nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
