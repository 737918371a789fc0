package ruletest

import (
	"fmt"

	"github.com/falcops/falcops/rules/condition"
)

// Program is a condition compiled for one event source: fields resolved
// against the catalog, constants parsed for the field types, regular
// expressions and path sets built once, and each macro compiled once and
// shared by every reference to it. It is safe for concurrent use.
type Program struct {
	source string
	root   node
	// memo is how many macro results an evaluation may remember.
	memo int
}

// node is a compiled piece of a condition. Macros make the nodes a DAG, not
// a tree: a macro used twice is one node, evaluated once per event.
type node interface {
	eval(st *evalState) bool
}

// evalState is one evaluation on one event: the event and the results of
// the macros evaluated so far (0 not yet, 1 false, 2 true), indexed by
// macro id. Macros are pure functions of the event, so a macro used many
// times, by many rules, is evaluated once per event.
type evalState struct {
	ev   *Event
	memo []uint8
}

func newState(ev *Event, macros int) *evalState {
	return &evalState{ev: ev, memo: make([]uint8, macros)}
}

type andNode []node

func (n andNode) eval(st *evalState) bool {
	for _, c := range n {
		if !c.eval(st) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(st *evalState) bool {
	for _, c := range n {
		if c.eval(st) {
			return true
		}
	}
	return false
}

type notNode struct{ child node }

func (n notNode) eval(st *evalState) bool { return !n.child.eval(st) }

// macroNode is a macro's condition, compiled once.
type macroNode struct {
	id    int
	name  string
	child node
}

func (m *macroNode) eval(st *evalState) bool {
	switch st.memo[m.id] {
	case 1:
		return false
	case 2:
		return true
	}
	v := m.child.eval(st)
	st.memo[m.id] = 1
	if v {
		st.memo[m.id] = 2
	}
	return v
}

// Eval compiles a condition for the event's source and evaluates it. To
// evaluate one condition against many events, Compile it once.
func Eval(e condition.Expr, ev *Event) (bool, error) {
	p, err := Compile(e, ev.Source)
	if err != nil {
		return false, err
	}
	return p.Eval(ev)
}

// Compile compiles a condition without macro references (or with macros
// expanded, rules.Ruleset.Expand) for an event source. Errors are those
// libsinsp's filter compiler reports for the same condition: unknown fields,
// operators a field type does not support, constants that do not parse as
// the field's type, invalid regular expressions, misused transformers.
func Compile(e condition.Expr, source string) (*Program, error) {
	return newCompiler(source, nil, new(int)).program(e)
}

// Eval evaluates the program on an event of its source.
func (p *Program) Eval(ev *Event) (bool, error) {
	if ev.Source != p.source {
		return false, fmt.Errorf("the condition is compiled for source '%s', the event is from '%s'", p.source, ev.Source)
	}
	return p.eval(ev), nil
}

func (p *Program) eval(ev *Event) bool { return p.root.eval(newState(ev, p.memo)) }

// MacroFunc returns the parsed condition of a macro (lists expanded), or nil
// when there is no such macro.
type MacroFunc func(name string) condition.Expr

// compiler compiles conditions for one source. Compilers of one suite
// share the counter of macro ids, so one evaluation state serves every
// rule of the suite.
type compiler struct {
	source string
	macros MacroFunc // nil: macro references are errors
	nextID *int
	// compiled memoises each macro: its node, or the error compiling it.
	compiled map[string]macroResult
	active   map[string]bool // macros being compiled, to refuse loops
	// consts memoises the constants of checks on the same (shared) value
	// list: a big list referenced by many rules is parsed once.
	consts map[constKey]*constSet
}

type macroResult struct {
	node *macroNode
	err  error
}

func newCompiler(source string, macros MacroFunc, nextID *int) *compiler {
	if source == "" {
		source = DefaultSource
	}
	return &compiler{source: source, macros: macros, nextID: nextID,
		compiled: map[string]macroResult{}, active: map[string]bool{}, consts: map[constKey]*constSet{}}
}

func (c *compiler) program(e condition.Expr) (*Program, error) {
	root, err := c.node(e)
	if err != nil {
		return nil, err
	}
	return &Program{source: c.source, root: root, memo: *c.nextID}, nil
}

// nodes compiles the children of a conjunction or disjunction.
func (c *compiler) nodes(children []condition.Expr) ([]node, error) {
	out := make([]node, len(children))
	for i, ch := range children {
		x, err := c.node(ch)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (c *compiler) node(e condition.Expr) (node, error) {
	switch n := e.(type) {
	case *condition.And:
		out, err := c.nodes(n.Children)
		return andNode(out), err
	case *condition.Or:
		out, err := c.nodes(n.Children)
		return orNode(out), err
	case *condition.Not:
		x, err := c.node(n.Child)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case *condition.UnaryCheck:
		return c.check(n, n.Left, n.Op, nil)
	case *condition.BinaryCheck:
		return c.check(n, n.Left, n.Op, n.Right)
	case *condition.Identifier:
		return c.macro(n.Name)
	case nil:
		return nil, fmt.Errorf("empty condition")
	}
	return nil, fmt.Errorf("unexpected %T in check position", e)
}

// macro compiles a macro once; every later reference shares the node.
func (c *compiler) macro(name string) (node, error) {
	if c.macros == nil {
		return nil, fmt.Errorf("undefined macro '%s' (expand macros before evaluating)", name)
	}
	if r, ok := c.compiled[name]; ok {
		return r.node, r.err
	}
	if c.active[name] {
		return nil, fmt.Errorf("macro '%s' refers to itself", name)
	}
	ast := c.macros(name)
	if ast == nil {
		return nil, fmt.Errorf("undefined macro '%s'", name)
	}
	c.active[name] = true
	child, err := c.node(ast)
	delete(c.active, name)
	var r macroResult
	if err == nil {
		r.node = &macroNode{id: *c.nextID, name: name, child: child}
		*c.nextID++
	}
	r.err = err
	c.compiled[name] = r
	if r.err != nil {
		return nil, r.err
	}
	return r.node, nil
}
