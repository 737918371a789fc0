package condition

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultMaxDepth is the nesting limit Falco configures for rule conditions.
const DefaultMaxDepth = 1000

// Error is a parse error at a byte offset of the condition.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// The operator tables in the order libsinsp tries them. A trailing blank means
// the operator must be followed by a blank.
var (
	unaryOps     = []string{"exists"}
	numOps       = []string{"<=", "<", ">=", ">"}
	strOps       = []string{"==", "=", "!=", "glob ", "iglob ", "contains ", "icontains ", "bcontains ", "startswith ", "bstartswith ", "endswith ", "regex "}
	modifierOps  = []string{"oneof ", "anyof ", "allof "}
	listOps      = []string{"intersects", "in", "pmatch"}
	transformers = []string{"tolower(", "toupper(", "b64(", "basename(", "len(", "join(", "concat(", "getopt("}
)

// Operators lists every comparison operator of the grammar (without modifiers).
func Operators() []string {
	var ops []string
	for _, l := range [][]string{unaryOps, numOps, strOps, listOps} {
		for _, o := range l {
			ops = append(ops, strings.TrimSpace(o))
		}
	}
	return ops
}

// IsListOperator reports whether op takes a list operand, as the exception
// compiler decides it: in, intersects, pmatch, or a string operator with a
// modifier such as "startswith oneof".
func IsListOperator(op string) bool {
	switch op {
	case "in", "intersects", "pmatch":
		return true
	}
	return IsModifierOperator(op)
}

// IsModifierOperator reports whether op is a string operator followed by a
// modifier (oneof, anyof, allof), e.g. "startswith oneof".
func IsModifierOperator(op string) bool {
	base, mod, ok := strings.Cut(op, " ")
	if !ok || mod == "" {
		return false
	}
	return contains(strOps, base) && contains(modifierOps, mod)
}

// IsOperator reports whether op is a comparison operator, with or without modifier.
func IsOperator(op string) bool {
	return contains(Operators(), op) || IsModifierOperator(op)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s || strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

type parser struct {
	in       string
	pos      int
	last     string
	depth    int
	maxDepth int
}

// Parse parses a condition with Falco's default depth limit.
func Parse(s string) (Expr, error) { return ParseDepth(s, DefaultMaxDepth) }

// ParseDepth parses a condition with the given nesting limit.
func ParseDepth(s string, maxDepth int) (e Expr, err error) {
	if len(s) == 0 {
		return nil, &Error{0, "filter input string is empty"}
	}
	p := &parser{in: s, maxDepth: maxDepth}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, err = nil, pe
		}
	}()
	e = p.parseOr()
	if p.pos != len(p.in) {
		p.fail("unexpected token after '" + p.last + "', expecting 'or', 'and'")
	}
	return e, nil
}

func (p *parser) fail(msg string) { panic(&Error{p.pos, msg}) }

func (p *parser) enter() {
	p.depth++
	if p.depth >= p.maxDepth {
		p.fail("exceeded max depth limit of " + strconv.Itoa(p.maxDepth))
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseOr() Expr {
	p.enter()
	defer p.leave()
	pos := p.pos
	p.blank()
	children := []Expr{p.parseAnd()}
	p.blank()
	for p.str("or") {
		var child Expr
		if !p.blank() {
			if !p.str("(") {
				p.fail("expected blank or '(' after 'or'")
			}
			child = p.parseEmbedded()
		} else {
			child = p.parseAnd()
		}
		children = append(children, child)
		p.blank()
	}
	if len(children) > 1 {
		return &Or{base{pos}, children}
	}
	return children[0]
}

func (p *parser) parseAnd() Expr {
	p.enter()
	defer p.leave()
	pos := p.pos
	p.blank()
	children := []Expr{p.parseNot()}
	p.blank()
	for p.str("and") {
		var child Expr
		if !p.blank() {
			if !p.str("(") {
				p.fail("expected blank or '(' after 'and'")
			}
			child = p.parseEmbedded()
		} else {
			child = p.parseNot()
		}
		children = append(children, child)
		p.blank()
	}
	if len(children) > 1 {
		return &And{base{pos}, children}
	}
	return children[0]
}

func (p *parser) parseNot() Expr {
	p.enter()
	defer p.leave()
	pos := p.pos
	p.blank()
	neg := false
	for p.notBlank() {
		neg = !neg
	}
	var child Expr
	if p.str("not(") {
		neg = !neg
		child = p.parseEmbedded()
	} else {
		child = p.parseCheck()
	}
	if neg {
		return &Not{base{pos}, child}
	}
	return child
}

func (p *parser) parseEmbedded() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	child := p.parseOr()
	p.blank()
	if !p.str(")") {
		p.fail("expected a ')' token")
	}
	return child
}

func (p *parser) parseCheck() Expr {
	p.enter()
	defer p.leave()
	pos := p.pos
	p.blank()
	if p.str("(") {
		return p.parseEmbedded()
	}
	if p.fieldName() {
		left := p.parseFieldRemainder(p.last, pos)
		return p.parseCondition(left, pos)
	}
	if p.transformerName() {
		p.blank()
		left := p.parseTransformerRemainder(strings.TrimSuffix(p.last, "("), pos)
		return p.parseCondition(left, pos)
	}
	if p.identifier() {
		return &Identifier{base{pos}, p.last}
	}
	p.fail("expected a '(' token, a field check, or an identifier")
	return nil
}

func (p *parser) parseFieldRemainder(name string, pos int) Expr {
	p.enter()
	defer p.leave()
	f := &Field{base: base{pos}, Name: name}
	f.Arg, f.HasArg = p.optionalFieldArg()
	return f
}

func (p *parser) optionalFieldArg() (string, bool) {
	if !p.str("[") {
		return "", false
	}
	if !p.quoted() && !p.fieldArgBare() {
		p.fail("expected a valid field argument: a quoted string or a bare string")
	}
	arg := p.last
	if !p.str("]") {
		p.fail("expected a ']' token")
	}
	return arg, true
}

func (p *parser) parseTransformerRemainder(name string, pos int) Expr {
	p.enter()
	defer p.leave()
	p.blank()
	var args []Expr
	for {
		args = append(args, p.parseTransformerArg())
		p.blank()
		if !p.str(",") {
			break
		}
	}
	p.blank()
	if !p.str(")") {
		p.fail("expected a ')' token closing the transformer")
	}
	t := &Transformer{base: base{pos}, Name: name, Args: args}
	t.Arg, t.HasArg = p.optionalFieldArg()
	return t
}

func (p *parser) parseTransformerArg() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.pos
	switch {
	case p.hexNum() || p.num():
		return &Value{base{pos}, p.last}
	case p.quoted():
		return &Value{base{pos}, p.last}
	case p.str("("):
		return p.parseTransformerList(pos)
	case p.transformerName():
		return p.parseTransformerRemainder(strings.TrimSuffix(p.last, "("), pos)
	case p.fieldName():
		return p.parseFieldRemainder(p.last, pos)
	}
	p.fail("expected field transformer argument: field, transformer, quoted string, number, or transformer list")
	return nil
}

func (p *parser) parseTransformerList(pos int) Expr {
	p.blank()
	l := &TransformerList{base: base{pos}}
	if p.str(")") {
		return l
	}
	l.Children = append(l.Children, p.parseTransformerListArg())
	p.blank()
	for p.str(",") {
		p.blank()
		l.Children = append(l.Children, p.parseTransformerListArg())
		p.blank()
	}
	if !p.str(")") {
		p.fail("expected ')'")
	}
	return l
}

func (p *parser) parseTransformerListArg() Expr {
	pos := p.pos
	switch {
	case p.fieldName():
		return p.parseFieldRemainder(p.last, pos)
	case p.transformerName():
		p.blank()
		return p.parseTransformerRemainder(strings.TrimSuffix(p.last, "("), pos)
	case p.quoted():
		return &Value{base{pos}, p.last}
	case p.hexNum() || p.num():
		return &Value{base{pos}, p.last}
	}
	p.fail("expected transformer list argument: field, transformer, quoted string, or number")
	return nil
}

func (p *parser) parseCondition(left Expr, pos int) Expr {
	p.enter()
	defer p.leave()
	p.blank()
	if p.operator(unaryOps) {
		return &UnaryCheck{base{pos}, left, strings.TrimSpace(p.last)}
	}
	p.blank()
	var op string
	var right Expr
	switch {
	case p.operator(numOps):
		op = p.last
		right = p.parseNumValueOrTransformer()
	case p.operator(strOps):
		op = p.last
		hadBlank := isAlpha(op[0]) || p.blank()
		savedPos, savedLast := p.pos, p.last
		if hadBlank && p.operator(modifierOps) && p.listValueFollows() && !p.boolKeywordFollows() {
			op = strings.TrimSpace(op) + " " + strings.TrimSpace(p.last)
			right = p.parseListValue()
		} else {
			p.pos, p.last = savedPos, savedLast
			right = p.parseStrValueOrTransformer(false)
		}
	case p.operator(listOps):
		op = p.last
		right = p.parseListValueOrTransformer()
	default:
		p.fail("expected a valid check operator: one of " + quoteList(Operators()))
	}
	return &BinaryCheck{base{pos}, left, strings.TrimSpace(op), right}
}

func (p *parser) parseNumValueOrTransformer() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.pos
	if t := p.tryTransformerOrVal(); t != nil {
		return t
	}
	if p.hexNum() || p.num() {
		return &Value{base{pos}, p.last}
	}
	p.fail("expected a number value or a field with a valid transformer: " + quoteList(transformerNames()))
	return nil
}

func (p *parser) parseStrValueOrTransformer(noTransformer bool) Expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.pos
	if !noTransformer {
		if t := p.tryTransformerOrVal(); t != nil {
			return t
		}
	}
	if p.quoted() || p.bareStr() {
		return &Value{base{pos}, p.last}
	}
	if noTransformer {
		p.fail("expected a string value")
	}
	p.fail("expected a string value or a field with a valid transformer: " + quoteList(transformerNames()))
	return nil
}

// tryList parses an inline list when the cursor is at '('.
func (p *parser) tryList() Expr {
	pos := p.pos
	if !p.str("(") {
		return nil
	}
	l := &List{base: base{pos}}
	p.blank()
	if v, ok := p.tryStrValue(); ok {
		l.Values = append(l.Values, v)
		p.blank()
		for p.str(",") {
			p.blank()
			v, ok := p.tryStrValue()
			if !ok {
				p.fail("expected a string value")
			}
			l.Values = append(l.Values, v)
			p.blank()
		}
	}
	if !p.str(")") {
		p.fail("expected a ')' token")
	}
	return l
}

func (p *parser) tryStrValue() (string, bool) {
	if p.quoted() || p.bareStr() {
		return p.last, true
	}
	return "", false
}

func (p *parser) parseListValue() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.pos
	if l := p.tryList(); l != nil {
		return l
	}
	if p.identifier() {
		return &Value{base{pos}, p.last}
	}
	p.fail("expected a list or an identifier")
	return nil
}

func (p *parser) parseListValueOrTransformer() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.pos
	if l := p.tryList(); l != nil {
		return l
	}
	if t := p.tryTransformerOrVal(); t != nil {
		return t
	}
	if p.identifier() {
		return &Value{base{pos}, p.last}
	}
	p.fail("expected a list, an identifier, or a field with a valid transformer: " + quoteList(transformerNames()))
	return nil
}

func (p *parser) tryTransformerOrVal() Expr {
	p.enter()
	defer p.leave()
	p.blank()
	pos := p.pos
	if p.str("val(") {
		p.blank()
		fieldPos := p.pos
		if !p.fieldName() {
			p.fail("expected a field within 'val' transformer")
		}
		f := p.parseFieldRemainder(p.last, fieldPos)
		p.blank()
		if !p.str(")") {
			p.fail("expected a ')' token closing the transformer")
		}
		t := &Transformer{base: base{pos}, Name: "val", Args: []Expr{f}}
		t.Arg, t.HasArg = p.optionalFieldArg()
		return t
	}
	if p.transformerName() {
		p.blank()
		return p.parseTransformerRemainder(strings.TrimSuffix(p.last, "("), pos)
	}
	return nil
}

// --- lexing helpers; each consumes input and sets p.last only on success ---

func (p *parser) rest() string { return p.in[p.pos:] }

func (p *parser) take(n int) bool {
	p.last = p.in[p.pos : p.pos+n]
	p.pos += n
	return true
}

func (p *parser) str(s string) bool {
	if strings.HasPrefix(p.rest(), s) {
		return p.take(len(s))
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

func (p *parser) blank() bool {
	start := p.pos
	for p.pos < len(p.in) && isBlank(p.in[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

// notBlank consumes "not" followed by at least one space character.
func (p *parser) notBlank() bool {
	r := p.rest()
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
	return p.take(n)
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

func (p *parser) identifier() bool {
	if n := identLen(p.rest()); n > 0 {
		return p.take(n)
	}
	return false
}

// fieldName consumes an identifier followed by one or more .identifier parts.
func (p *parser) fieldName() bool {
	r := p.rest()
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
	return p.take(n)
}

func (p *parser) transformerName() bool {
	for _, t := range transformers {
		if p.str(t) {
			return true
		}
	}
	return false
}

func (p *parser) fieldArgBare() bool {
	r := p.rest()
	n := 0
	for n < len(r) && !strings.ContainsRune("[]\"'", rune(r[n])) && !isSpace(r[n]) {
		n++
	}
	if n == 0 {
		return false
	}
	return p.take(n)
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (p *parser) hexNum() bool {
	r := p.rest()
	if len(r) < 3 || r[0] != '0' || (r[1] != 'x' && r[1] != 'X') || !isHex(r[2]) {
		return false
	}
	n := 3
	for n < len(r) && isHex(r[n]) {
		n++
	}
	return p.take(n)
}

// num consumes [+-]?[0-9]+[.]?[0-9]*([eE][+-][0-9]+)?
func (p *parser) num() bool {
	r := p.rest()
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
	return p.take(n)
}

func isBareStrChar(c byte) bool {
	return !strings.ContainsRune("()\"'=,", rune(c)) && !isSpace(c)
}

func (p *parser) bareStr() bool {
	r := p.rest()
	n := 0
	for n < len(r) && isBareStrChar(r[n]) {
		n++
	}
	if n == 0 {
		return false
	}
	return p.take(n)
}

// quoted consumes a single- or double-quoted string and sets p.last to its
// unescaped content.
func (p *parser) quoted() bool {
	r := p.rest()
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
				panic(&Error{p.pos + bad, err.Error()})
			}
			p.pos += i + 1
			p.last = s
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
func (p *parser) operator(list []string) bool {
	for _, op := range list {
		if !strings.HasSuffix(op, " ") {
			if p.str(op) {
				return true
			}
			continue
		}
		savedPos, savedLast := p.pos, p.last
		if p.str(strings.TrimSpace(op)) {
			if p.blank() {
				return true
			}
			p.pos, p.last = savedPos, savedLast
		}
	}
	return false
}

func (p *parser) listValueFollows() bool {
	if strings.HasPrefix(p.rest(), "(") {
		return true
	}
	return identLen(p.rest()) > 0
}

func (p *parser) boolKeywordFollows() bool {
	r := p.rest()
	for _, kw := range []string{"and", "or", "not"} {
		if strings.HasPrefix(r, kw) && (len(r) == len(kw) || !isAlpha(r[len(kw)]) && !isDigit(r[len(kw)])) {
			return true
		}
	}
	return false
}

func transformerNames() []string {
	names := []string{"val"}
	for _, t := range transformers {
		names = append(names, strings.TrimSuffix(t, "("))
	}
	return names
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

// ParseField parses a field or transformer (as in an output format or an
// exception's fields) at the start of s and returns it with the number of
// bytes it consumed.
func ParseField(s string) (e Expr, n int, err error) {
	p := &parser{in: s, maxDepth: DefaultMaxDepth}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, n, err = nil, 0, pe
		}
	}()
	switch {
	case p.fieldName():
		e = p.parseFieldRemainder(p.last, 0)
	case p.transformerName():
		p.blank()
		e = p.parseTransformerRemainder(strings.TrimSuffix(p.last, "("), 0)
	default:
		p.fail("expected a field or a transformer")
	}
	return e, p.pos, nil
}

// Unquote returns the content of s when s is exactly one quoted string of the
// grammar ("a b", 'x'), as a list item written with quotes reads once Falco
// substitutes it into a condition.
func Unquote(s string) (string, bool) {
	if len(s) < 2 || (s[0] != '"' && s[0] != '\'') {
		return s, false
	}
	p := &parser{in: s, maxDepth: DefaultMaxDepth}
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
		ok = p.quoted() && p.pos == len(s)
	}()
	if !ok {
		return s, false
	}
	return p.last, true
}
