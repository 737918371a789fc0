package condition

// Expr is a node of a condition tree. Pos is the byte offset of the node in
// the condition text it was parsed from.
type Expr interface {
	Pos() int
	node()
}

type base struct{ Offset int }

// Pos returns the byte offset of the node in its condition text.
func (b base) Pos() int { return b.Offset }
func (base) node()      {}

// And is a conjunction of two or more children.
type And struct {
	base
	Children []Expr
}

// Or is a disjunction of two or more children.
type Or struct {
	base
	Children []Expr
}

// Not negates its child.
type Not struct {
	base
	Child Expr
}

// Identifier is a bare name in check position: a macro reference.
type Identifier struct {
	base
	Name string
}

// Value is a scalar operand (unescaped when it was quoted). On the right of
// a list operator a Value is a list name.
type Value struct {
	base
	Value string
}

// List is an inline list operand: (a, b, c).
type List struct {
	base
	Values []string
}

// TransformerList is a parenthesised list of transformer arguments.
type TransformerList struct {
	base
	Children []Expr
}

// UnaryCheck is a check with a unary operator: proc.name exists.
type UnaryCheck struct {
	base
	Left Expr
	Op   string
}

// BinaryCheck compares Left (a field or transformer) with Right.
type BinaryCheck struct {
	base
	Left  Expr
	Op    string
	Right Expr
}

// Field is a field reference, with an optional bracket argument.
type Field struct {
	base
	Name   string
	Arg    string
	HasArg bool
}

// Transformer applies a transformer (tolower, val, ...) to its arguments.
type Transformer struct {
	base
	Name   string
	Args   []Expr
	Arg    string
	HasArg bool
}

// Walk calls fn for every node of the tree in depth-first order, parents
// before children. It stops descending below a node when fn returns false.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch n := e.(type) {
	case *And:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	case *Or:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	case *Not:
		Walk(n.Child, fn)
	case *UnaryCheck:
		Walk(n.Left, fn)
	case *BinaryCheck:
		Walk(n.Left, fn)
		Walk(n.Right, fn)
	case *Transformer:
		for _, c := range n.Args {
			Walk(c, fn)
		}
	case *TransformerList:
		for _, c := range n.Children {
			Walk(c, fn)
		}
	}
}

// Equal reports whether two trees are the same, ignoring positions.
func Equal(a, b Expr) bool {
	switch x := a.(type) {
	case *And:
		y, ok := b.(*And)
		return ok && equalAll(x.Children, y.Children)
	case *Or:
		y, ok := b.(*Or)
		return ok && equalAll(x.Children, y.Children)
	case *Not:
		y, ok := b.(*Not)
		return ok && Equal(x.Child, y.Child)
	case *Identifier:
		y, ok := b.(*Identifier)
		return ok && x.Name == y.Name
	case *Value:
		y, ok := b.(*Value)
		return ok && x.Value == y.Value
	case *List:
		y, ok := b.(*List)
		if !ok || len(x.Values) != len(y.Values) {
			return false
		}
		for i := range x.Values {
			if x.Values[i] != y.Values[i] {
				return false
			}
		}
		return true
	case *TransformerList:
		y, ok := b.(*TransformerList)
		return ok && equalAll(x.Children, y.Children)
	case *UnaryCheck:
		y, ok := b.(*UnaryCheck)
		return ok && x.Op == y.Op && Equal(x.Left, y.Left)
	case *BinaryCheck:
		y, ok := b.(*BinaryCheck)
		return ok && x.Op == y.Op && Equal(x.Left, y.Left) && Equal(x.Right, y.Right)
	case *Field:
		y, ok := b.(*Field)
		return ok && x.Name == y.Name && x.HasArg == y.HasArg && x.Arg == y.Arg
	case *Transformer:
		y, ok := b.(*Transformer)
		return ok && x.Name == y.Name && x.HasArg == y.HasArg && x.Arg == y.Arg && equalAll(x.Args, y.Args)
	case nil:
		return b == nil
	}
	return false
}

func equalAll(a, b []Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
