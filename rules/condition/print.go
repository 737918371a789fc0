package condition

import (
	"strings"
)

// String prints a tree as a condition that parses back to an equal tree.
// The output is canonical: one blank around operators and keywords,
// parentheses only where the grammar needs them.
func String(e Expr) string {
	var b strings.Builder
	printExpr(&b, e)
	return b.String()
}

func printExpr(b *strings.Builder, e Expr) {
	switch n := e.(type) {
	case *And:
		printJoined(b, n.Children, " and ", func(c Expr) bool {
			switch c.(type) {
			case *And, *Or:
				return true
			}
			return false
		})
	case *Or:
		printJoined(b, n.Children, " or ", func(c Expr) bool {
			_, isOr := c.(*Or)
			return isOr
		})
	case *Not:
		b.WriteString("not ")
		switch n.Child.(type) {
		case *UnaryCheck, *BinaryCheck, *Identifier:
			printExpr(b, n.Child)
		default:
			b.WriteByte('(')
			printExpr(b, n.Child)
			b.WriteByte(')')
		}
	case *Identifier:
		switch n.Name {
		case "and", "or", "not":
			// a macro named like a keyword only reads back as a macro
			// reference when it stands alone in parentheses
			b.WriteString("(" + n.Name + ")")
		default:
			b.WriteString(n.Name)
		}
	case *Value:
		b.WriteString(quoteValue(n.Value))
	case *List:
		b.WriteByte('(')
		for i, v := range n.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteValue(v))
		}
		b.WriteByte(')')
	case *TransformerList:
		b.WriteByte('(')
		printTransformerArgs(b, n.Children)
		b.WriteByte(')')
	case *UnaryCheck:
		printExpr(b, n.Left)
		b.WriteByte(' ')
		b.WriteString(n.Op)
	case *BinaryCheck:
		printExpr(b, n.Left)
		b.WriteByte(' ')
		b.WriteString(n.Op)
		b.WriteByte(' ')
		if v, ok := n.Right.(*Value); ok {
			b.WriteString(rightValue(n.Op, v.Value))
		} else {
			printExpr(b, n.Right)
		}
	case *Field:
		b.WriteString(n.Name)
		printArg(b, n.HasArg, n.Arg)
	case *Transformer:
		b.WriteString(n.Name)
		b.WriteByte('(')
		printTransformerArgs(b, n.Args)
		b.WriteByte(')')
		printArg(b, n.HasArg, n.Arg)
	}
}

// printTransformerArgs prints transformer arguments, where a string must be
// quoted (a bare word would read as a field or fail).
func printTransformerArgs(b *strings.Builder, args []Expr) {
	for i, a := range args {
		if i > 0 {
			b.WriteString(", ")
		}
		if v, ok := a.(*Value); ok && !isNumber(v.Value) {
			b.WriteString(quoteAlways(v.Value))
			continue
		}
		printExpr(b, a)
	}
}

func printJoined(b *strings.Builder, children []Expr, sep string, needParens func(Expr) bool) {
	for i, c := range children {
		if i > 0 {
			b.WriteString(sep)
		}
		if needParens(c) {
			b.WriteByte('(')
			printExpr(b, c)
			b.WriteByte(')')
		} else {
			printExpr(b, c)
		}
	}
}

func printArg(b *strings.Builder, has bool, arg string) {
	if !has {
		return
	}
	b.WriteByte('[')
	if arg != "" && !strings.ContainsAny(arg, "[]\"' \t\n\v\f\r") {
		b.WriteString(arg)
	} else {
		b.WriteString(quoteAlways(arg))
	}
	b.WriteByte(']')
}

// rightValue prints the right operand of a check: numbers after numeric
// operators and list names after list operators stay bare.
func rightValue(op, v string) string {
	switch op {
	case "<", "<=", ">", ">=":
		return v
	}
	if IsListOperator(op) {
		return v // a list name: always an identifier
	}
	return quoteValue(v)
}

// quoteValue quotes a string operand unless it reads back unchanged as a bare
// string in every position the grammar allows one.
func quoteValue(v string) string {
	if v == "" || !safeBare(v) {
		return quoteAlways(v)
	}
	return v
}

func safeBare(v string) bool {
	for i := 0; i < len(v); i++ {
		if !isBareStrChar(v[i]) || v[i] == '\b' {
			return false
		}
	}
	switch v {
	case "oneof", "anyof", "allof":
		return false // would read as an operator modifier
	}
	// A bare string starting like a transformer or val( is impossible (it would
	// contain '('), so no further checks are needed.
	return true
}

func isNumber(v string) bool {
	sc := &scanner{in: v}
	return (sc.hexNum() || sc.num()) && sc.pos == len(v)
}

func quoteAlways(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			if i == len(v)-1 {
				// The lexer, like libsinsp's, ends a quoted string at the
				// first quote not preceded by a backslash, so "a\\" would
				// not be closed: spell a final backslash as a hex escape.
				b.WriteString(`\x5c`)
			} else {
				b.WriteString(`\\`)
			}
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
