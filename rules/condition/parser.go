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

// parser is the grammar layer over the scanner; depth counts the nesting of
// grammar rules as libsinsp counts it, against maxDepth.
type parser struct {
	scanner
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
	p := &parser{scanner: scanner{in: s}, maxDepth: maxDepth}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			e, err = nil, pe
		}
	}()
	e = p.parseBinaryExpr(1)
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

// binaryOps are the boolean operators by precedence, loosest first:
// precedence 1 is "or", 2 is "and".
var binaryOps = []struct {
	keyword string
	node    func(base, []Expr) Expr
}{
	{"or", func(b base, children []Expr) Expr { return &Or{b, children} }},
	{"and", func(b base, children []Expr) Expr { return &And{b, children} }},
}

// parseBinaryExpr parses a chain of operands joined by the operator of
// precedence prec, each operand binding tighter; above the last precedence it
// parses a "not" term. A keyword directly followed by '(' starts an embedded
// expression, as in libsinsp's "a and(b)".
func (p *parser) parseBinaryExpr(prec int) Expr {
	if prec > len(binaryOps) {
		return p.parseNot()
	}
	op := binaryOps[prec-1]
	p.enter()
	defer p.leave()
	pos := p.pos
	p.blank()
	children := []Expr{p.parseBinaryExpr(prec + 1)}
	p.blank()
	for p.str(op.keyword) {
		var child Expr
		if !p.blank() {
			if !p.str("(") {
				p.fail("expected blank or '(' after '" + op.keyword + "'")
			}
			child = p.parseEmbedded()
		} else {
			child = p.parseBinaryExpr(prec + 1)
		}
		children = append(children, child)
		p.blank()
	}
	if len(children) > 1 {
		return op.node(base{pos}, children)
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
	child := p.parseBinaryExpr(1)
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
		return p.parseCondition(p.transformerCall(pos), pos)
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

// transformerCall parses the rest of a transformer whose name and opening
// parenthesis the scanner has just consumed.
func (p *parser) transformerCall(pos int) Expr {
	p.blank()
	return p.parseTransformerRemainder(strings.TrimSuffix(p.last, "("), pos)
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
		return p.transformerCall(pos)
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
		return p.transformerCall(pos)
	}
	return nil
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
	p := &parser{scanner: scanner{in: s}, maxDepth: DefaultMaxDepth}
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
		e = p.transformerCall(0)
	default:
		p.fail("expected a field or a transformer")
	}
	return e, p.pos, nil
}
