package condition

import (
	"fmt"
	"strconv"
	"strings"
)

// scanner is the lexical layer of the parser: each method consumes one token
// kind at the cursor and, only on success, advances pos and sets last to the
// token (a quoted string's last is its unescaped content).
type scanner struct {
	in   string
	pos  int
	last string
}

func (sc *scanner) rest() string { return sc.in[sc.pos:] }

func (sc *scanner) take(n int) bool {
	sc.last = sc.in[sc.pos : sc.pos+n]
	sc.pos += n
	return true
}

func (sc *scanner) str(s string) bool {
	if strings.HasPrefix(sc.rest(), s) {
		return sc.take(len(s))
	}
	return false
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdent(c byte) bool { return isAlpha(c) || isDigit(c) || c == '_' }

func (sc *scanner) blank() bool {
	start := sc.pos
	for sc.pos < len(sc.in) && isBlank(sc.in[sc.pos]) {
		sc.pos++
	}
	return sc.pos > start
}

// notBlank consumes "not" followed by at least one space character.
func (sc *scanner) notBlank() bool {
	r := sc.rest()
	if !strings.HasPrefix(r, "not") {
		return false
	}
	n := 3
	for n < len(r) && isSpace(r[n]) {
		n++
	}
	if n == 3 {
		return false
	}
	return sc.take(n)
}

func identLen(s string) int {
	n := 0
	for n < len(s) && isAlpha(s[n]) {
		n++
	}
	if n == 0 {
		return 0
	}
	for n < len(s) && isIdent(s[n]) {
		n++
	}
	return n
}

func (sc *scanner) identifier() bool {
	if n := identLen(sc.rest()); n > 0 {
		return sc.take(n)
	}
	return false
}

// fieldName consumes an identifier followed by one or more .identifier parts.
func (sc *scanner) fieldName() bool {
	r := sc.rest()
	n := identLen(r)
	if n == 0 {
		return false
	}
	parts := 0
	for n < len(r) && r[n] == '.' {
		m := identLen(r[n+1:])
		if m == 0 {
			break
		}
		n += 1 + m
		parts++
	}
	if parts == 0 {
		return false
	}
	return sc.take(n)
}

func (sc *scanner) transformerName() bool {
	for _, t := range transformers {
		if sc.str(t) {
			return true
		}
	}
	return false
}

func (sc *scanner) fieldArgBare() bool {
	r := sc.rest()
	n := 0
	for n < len(r) && !strings.ContainsRune("[]\"'", rune(r[n])) && !isSpace(r[n]) {
		n++
	}
	if n == 0 {
		return false
	}
	return sc.take(n)
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (sc *scanner) hexNum() bool {
	r := sc.rest()
	if len(r) < 3 || r[0] != '0' || (r[1] != 'x' && r[1] != 'X') || !isHex(r[2]) {
		return false
	}
	n := 3
	for n < len(r) && isHex(r[n]) {
		n++
	}
	return sc.take(n)
}

// num consumes [+-]?[0-9]+[.]?[0-9]*([eE][+-][0-9]+)?
func (sc *scanner) num() bool {
	r := sc.rest()
	n := 0
	if n < len(r) && (r[n] == '+' || r[n] == '-') {
		n++
	}
	d := n
	for n < len(r) && isDigit(r[n]) {
		n++
	}
	if n == d {
		return false
	}
	if n < len(r) && r[n] == '.' {
		n++
	}
	for n < len(r) && isDigit(r[n]) {
		n++
	}
	if n+2 < len(r) && (r[n] == 'e' || r[n] == 'E') && (r[n+1] == '+' || r[n+1] == '-') && isDigit(r[n+2]) {
		n += 3
		for n < len(r) && isDigit(r[n]) {
			n++
		}
	}
	return sc.take(n)
}

func isBareStrChar(c byte) bool {
	return !strings.ContainsRune("()\"'=,", rune(c)) && !isSpace(c)
}

func (sc *scanner) bareStr() bool {
	r := sc.rest()
	n := 0
	for n < len(r) && isBareStrChar(r[n]) {
		n++
	}
	if n == 0 {
		return false
	}
	return sc.take(n)
}

// quoted consumes a single- or double-quoted string and sets last to its
// unescaped content.
func (sc *scanner) quoted() bool {
	r := sc.rest()
	if len(r) == 0 || (r[0] != '"' && r[0] != '\'') {
		return false
	}
	delim := r[0]
	prev := byte('\\')
	for i := 0; i < len(r); i++ {
		c := r[i]
		if i > 0 && c == delim && prev != '\\' {
			s, bad, err := unescape(r[:i+1])
			if err != nil {
				// report the offending escape sequence, not the opening quote
				panic(&Error{sc.pos + bad, err.Error()})
			}
			sc.pos += i + 1
			sc.last = s
			return true
		}
		prev = c
	}
	return false
}

// unescape decodes a quoted string (quotes included) as libsinsp's
// unescape_str does. On error it also returns the offset in s of the
// backslash starting the bad escape sequence.
func unescape(s string) (string, int, error) {
	var b strings.Builder
	escaped := false
	start := 0 // offset of the pending backslash
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if !escaped {
			if c == '\\' {
				escaped = true
				start = i
			} else {
				b.WriteByte(c)
			}
			continue
		}
		switch c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case ' ', '\\':
			b.WriteByte('\\')
		case '/':
			b.WriteByte('/')
		case '"', '\'':
			if s[0] != c {
				if c == '"' {
					return "", start, fmt.Errorf("invalid \\\" escape in '-quoted string")
				}
				return "", start, fmt.Errorf("invalid \\' escape in \"-quoted string")
			}
			b.WriteByte(c)
		case 'x':
			if i+2 >= len(s)-1 {
				return "", start, fmt.Errorf("truncated hex char escape sequence")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", start, fmt.Errorf("invalid hex char escape sequence: %s", s[i+1:i+3])
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", start, fmt.Errorf("unsupported string escape sequence: \\%c", c)
		}
		escaped = false
	}
	return b.String(), 0, nil
}

// operator consumes the first operator of list that matches; operators with a
// trailing blank in the table must be followed by a blank.
func (sc *scanner) operator(list []string) bool {
	for _, op := range list {
		if !strings.HasSuffix(op, " ") {
			if sc.str(op) {
				return true
			}
			continue
		}
		savedPos, savedLast := sc.pos, sc.last
		if sc.str(strings.TrimSpace(op)) {
			if sc.blank() {
				return true
			}
			sc.pos, sc.last = savedPos, savedLast
		}
	}
	return false
}

func (sc *scanner) listValueFollows() bool {
	if strings.HasPrefix(sc.rest(), "(") {
		return true
	}
	return identLen(sc.rest()) > 0
}

func (sc *scanner) boolKeywordFollows() bool {
	r := sc.rest()
	for _, kw := range []string{"and", "or", "not"} {
		if strings.HasPrefix(r, kw) && (len(r) == len(kw) || !isAlpha(r[len(kw)]) && !isDigit(r[len(kw)])) {
			return true
		}
	}
	return false
}

// Unquote returns the content of s when s is exactly one quoted string of the
// grammar ("a b", 'x'), as a list item written with quotes reads once Falco
// substitutes it into a condition.
func Unquote(s string) (string, bool) {
	if len(s) < 2 || (s[0] != '"' && s[0] != '\'') {
		return s, false
	}
	sc := &scanner{in: s}
	ok := false
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, isErr := r.(*Error); !isErr {
					panic(r)
				}
				ok = false
			}
		}()
		ok = sc.quoted() && sc.pos == len(s)
	}()
	if !ok {
		return s, false
	}
	return sc.last, true
}
