package ruletest

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/falcops/falcops/rules/condition"
)

// extractor yields the values of the left or right side of a check: a field
// of the event, a constant transformer argument, or a transformer applied to
// other extractors. ok is false when the value is missing (libsinsp's
// extract() returning false).
type extractor interface {
	extract(ev *Event) (vals []value, ok bool)
	typ() ftype
	name() string
}

func (c *compiler) extractor(e condition.Expr, rhs bool) (extractor, error) {
	switch n := e.(type) {
	case *condition.Field:
		r, err := resolveField(c.source, n)
		if err != nil {
			return nil, fmt.Errorf("filter error: %w", err)
		}
		return &fieldExtractor{ref: r, lookups: lookupsFor(c.source, r), source: c.source}, nil
	case *condition.Transformer:
		return c.transformer(n, rhs)
	}
	return nil, fmt.Errorf("expected a field or a transformer, not %T", e)
}

// targ compiles a transformer argument: constants become raw strings
// (rawstring_check) and parenthesised lists list checks (list_check).
func (c *compiler) targ(e condition.Expr) (extractor, error) {
	switch n := e.(type) {
	case *condition.Value:
		return constExtractor{value{s: n.Value}}, nil
	case *condition.TransformerList:
		if len(n.Children) == 0 {
			return nil, fmt.Errorf("filter error: unexpected empty transformer list element")
		}
		l := listExtractor{}
		for _, ch := range n.Children {
			x, err := c.targ(ch)
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, nil
	}
	return c.extractor(e, false)
}

func (c *compiler) transformer(n *condition.Transformer, rhs bool) (extractor, error) {
	if n.Name == "val" {
		if n.HasArg {
			return nil, fmt.Errorf("filter error: transformer 'val' does not support field arguments")
		}
		if len(n.Args) != 1 {
			return nil, fmt.Errorf("filter error: 'val' takes one field")
		}
		return c.extractor(n.Args[0], rhs)
	}
	args := make([]extractor, len(n.Args))
	for i, a := range n.Args {
		x, err := c.targ(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	if len(args) == 1 {
		if n.HasArg {
			return nil, fmt.Errorf("filter error: transformer '%s' does not support field arguments", n.Name)
		}
		return newTransformer(n.Name, args[0])
	}
	switch n.Name {
	case "join":
		return newJoin(args, n)
	case "concat":
		return newConcat(args, n)
	case "getopt":
		return newGetopt(args, n)
	}
	return nil, fmt.Errorf("filter error: unknown multivalue transformer '%s'", n.Name)
}

// fieldExtractor reads a field of the event.
type fieldExtractor struct {
	ref     fieldRef
	lookups []lookup
	source  string
}

func (f *fieldExtractor) extract(ev *Event) ([]value, bool) {
	if f.source == DefaultSource && !f.ref.hasArg {
		if _, anc := ancestorFields[f.ref.name]; anc {
			// extracted without index: the ancestors' values joined by a blank
			as := ev.ancestors(f.ref.name)
			if len(as) == 0 {
				return nil, false
			}
			parts := make([]string, len(as))
			for i, a := range as {
				parts[i] = a.text(f.ref.t)
			}
			return []value{{s: strings.Join(parts, " ")}}, true
		}
	}
	return ev.get(f.lookups)
}

func (f *fieldExtractor) typ() ftype   { return f.ref.t }
func (f *fieldExtractor) name() string { return f.ref.key }

// constExtractor is a constant transformer argument (rawstring_check).
type constExtractor struct{ v value }

func (c constExtractor) extract(*Event) ([]value, bool) { return []value{c.v}, true }
func (constExtractor) typ() ftype                       { return typeCharbuf }
func (c constExtractor) name() string                   { return fmt.Sprintf("%q", c.v.s) }

// listExtractor is a parenthesised transformer argument (list_check): the
// values of its elements in order, numbers rendered as text.
type listExtractor []extractor

func (l listExtractor) extract(ev *Event) ([]value, bool) {
	var out []value
	for _, x := range l {
		vals, ok := x.extract(ev)
		if !ok {
			return nil, false
		}
		t := x.typ()
		for _, v := range vals {
			if t.kind != kString && t.kind != kBytes {
				v = value{s: v.text(t)}
			}
			out = append(out, v)
		}
	}
	return out, true
}

func (listExtractor) typ() ftype { return ftype{kind: kString, list: true, name: "charbuf"} }
func (l listExtractor) name() string {
	names := make([]string, len(l))
	for i, x := range l {
		names[i] = x.name()
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// transformed applies a one-argument transformer (sinsp_filter_transformer_*).
type transformed struct {
	tr  string
	arg extractor
	out ftype
}

func newTransformer(name string, arg extractor) (extractor, error) {
	if f, ok := arg.(*fieldExtractor); ok && noTransformer[f.ref.name] {
		return nil, fmt.Errorf("filter error: field '%s' does not support transformers", f.ref.name)
	}
	in := arg.typ()
	out := in
	ok := false
	switch name {
	case "tolower", "toupper", "basename":
		ok = in.kind == kString
	case "b64":
		ok = in.kind == kString && in.name == "charbuf" || in.kind == kBytes
	case "len":
		if in.list {
			ok, out = true, typeUint64
		} else {
			ok, out = in.kind == kString || in.kind == kBytes, typeUint64
		}
	default:
		return nil, fmt.Errorf("filter error: unknown field transformer '%s'", name)
	}
	if !ok {
		list := ""
		if in.list {
			list = "list "
		}
		return nil, fmt.Errorf("filter error: can't add field transformer: type '%s' is not supported by '%s' transformer applied on %sfield '%s'",
			in.name, name, list, arg.name())
	}
	return &transformed{tr: name, arg: arg, out: out}, nil
}

func (t *transformed) typ() ftype   { return t.out }
func (t *transformed) name() string { return t.tr + "(" + t.arg.name() + ")" }

func (t *transformed) extract(ev *Event) ([]value, bool) {
	vals, ok := t.arg.extract(ev)
	if !ok {
		return nil, false
	}
	in := t.arg.typ()
	if t.tr == "len" {
		if in.list {
			return []value{{n: uint64(len(vals))}}, true
		}
		if len(vals) == 0 {
			return nil, false
		}
		n := len(vals[0].s)
		if in.kind == kString {
			n = len(cstr(vals[0].s))
		}
		return []value{{n: uint64(n)}}, true
	}
	out := make([]value, len(vals))
	for i, v := range vals {
		// string_transformer: trailing NULs are not part of the input
		s := strings.TrimRight(v.s, "\x00")
		switch t.tr {
		case "tolower", "toupper":
			b := []byte(s)
			for j := range b {
				if t.tr == "tolower" {
					b[j] = lower(b[j])
				} else {
					b[j] = upper(b[j])
				}
			}
			s = string(b)
		case "basename":
			if k := strings.LastIndexByte(s, '/'); k >= 0 {
				s = s[k+1:]
			}
		case "b64":
			d, ok := b64Decode(s)
			if !ok {
				return nil, false
			}
			s = d
		}
		out[i] = value{s: s}
	}
	return out, true
}

// b64Decode is Base64::decodeWithoutPadding: standard alphabet, at most two
// '=' at the end.
func b64Decode(s string) (string, bool) {
	s = strings.TrimSuffix(s, "=")
	s = strings.TrimSuffix(s, "=")
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// joinExtractor is join(separator, list).
type joinExtractor struct{ sep, list extractor }

func newJoin(args []extractor, n *condition.Transformer) (extractor, error) {
	if n.HasArg {
		return nil, fmt.Errorf("filter error: transformer 'join' does not support field arguments")
	}
	if len(args) != 2 {
		return nil, fmt.Errorf("join() requires exactly 2 arguments: separator and list")
	}
	if args[0].typ().list {
		return nil, fmt.Errorf("join() first argument (separator) must be a single value, not a list")
	}
	if !args[1].typ().list {
		return nil, fmt.Errorf("join() second argument must be a list")
	}
	return &joinExtractor{args[0], args[1]}, nil
}

func (j *joinExtractor) typ() ftype   { return typeCharbuf }
func (j *joinExtractor) name() string { return "join(" + j.sep.name() + ", " + j.list.name() + ")" }

func (j *joinExtractor) extract(ev *Event) ([]value, bool) {
	sv, ok := j.sep.extract(ev)
	if !ok || len(sv) == 0 {
		return nil, false
	}
	vals, ok := j.list.extract(ev)
	if !ok {
		return nil, false
	}
	st, lt := j.sep.typ(), j.list.typ()
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = cstr(v.text(lt))
	}
	return []value{{s: strings.Join(parts, sv[0].text(st))}}, true
}

// concatExtractor is concat(a, b, ...).
type concatExtractor []extractor

func newConcat(args []extractor, n *condition.Transformer) (extractor, error) {
	if n.HasArg {
		return nil, fmt.Errorf("filter error: transformer 'concat' does not support field arguments")
	}
	for _, a := range args {
		if t := a.typ(); t.name != "charbuf" || t.list {
			return nil, fmt.Errorf("concat() arguments must be strings")
		}
	}
	return concatExtractor(args), nil
}

func (concatExtractor) typ() ftype { return typeCharbuf }
func (c concatExtractor) name() string {
	return "concat" + listExtractor(c).name()
}

func (c concatExtractor) extract(ev *Event) ([]value, bool) {
	var b strings.Builder
	for _, a := range c {
		vals, ok := a.extract(ev)
		if !ok || len(vals) == 0 {
			return nil, false
		}
		b.WriteString(cstr(vals[0].s))
	}
	return []value{{s: b.String()}}, true
}

// getoptExtractor is getopt(args, optstring) and getopt(args, optstring)[o]
// (sinsp_filter_multivalue_transformer_getopt).
type getoptExtractor struct {
	args, optstring extractor
	selector        byte
	hasSelector     bool
}

func newGetopt(args []extractor, n *condition.Transformer) (extractor, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("getopt() requires exactly 2 arguments: args list and optstring")
	}
	if !args[0].typ().list {
		return nil, fmt.Errorf("getopt() first argument must be a list")
	}
	if args[1].typ().list {
		return nil, fmt.Errorf("getopt() second argument (optstring) must be a single value")
	}
	if args[0].typ().name != "charbuf" || args[1].typ().name != "charbuf" {
		return nil, fmt.Errorf("getopt() arguments must be strings")
	}
	g := &getoptExtractor{args: args[0], optstring: args[1]}
	if n.HasArg {
		if len(n.Arg) != 1 {
			return nil, fmt.Errorf("getopt() field argument must be a single option character")
		}
		g.selector, g.hasSelector = n.Arg[0], true
	}
	return g, nil
}

func (g *getoptExtractor) typ() ftype {
	if g.hasSelector {
		return typeCharbuf
	}
	return ftype{kind: kString, list: true, name: "charbuf"}
}

func (g *getoptExtractor) name() string {
	s := "getopt(" + g.args.name() + ", " + g.optstring.name() + ")"
	if g.hasSelector {
		s += "[" + string(g.selector) + "]"
	}
	return s
}

func (g *getoptExtractor) extract(ev *Event) ([]value, bool) {
	ov, ok := g.optstring.extract(ev)
	if !ok || len(ov) == 0 {
		return nil, false
	}
	spec := parseOptstring(ov[0].s)
	argv, ok := g.args.extract(ev)
	if !ok {
		return nil, false
	}
	var out []value
	var selected *value
	emit := func(name string, val *string) {
		if g.hasSelector {
			v := value{s: name}
			if val != nil {
				v.s = *val
			}
			selected = &v
			return
		}
		out = append(out, value{s: name})
		if val != nil {
			out = append(out, value{s: *val})
		}
	}
	for ai := 0; ai < len(argv); ai++ {
		arg := argv[ai].s
		if arg == "--" {
			break
		}
		if len(arg) > 2 && arg[0] == '-' && arg[1] == '-' {
			continue // long options are skipped
		}
		if arg == "" || arg[0] != '-' || len(arg) == 1 {
			break
		}
		ai = g.cluster(argv, ai, spec, emit)
	}
	if g.hasSelector {
		if selected == nil {
			return nil, false
		}
		return []value{*selected}, true
	}
	return out, true
}

// optspec is a parsed getopt(3) optstring: the valid options, and those
// that take an argument.
type optspec struct{ valid, withArg [256]bool }

func parseOptstring(opts string) optspec {
	var spec optspec
	i := 0
	if strings.HasPrefix(opts, ":") {
		i = 1
	}
	for ; i < len(opts); i++ {
		c := opts[i]
		if c == ':' {
			continue
		}
		spec.valid[c] = true
		if i+1 < len(opts) && opts[i+1] == ':' {
			spec.withArg[c] = true
			i++
		}
	}
	return spec
}

// cluster reads the options of argument ai ("-ab", "-fvalue", or "-f value"
// taking the next argument) as getopt(3) does, emitting the ones that match
// the selector and "?" for unknown ones. It returns the index of the last
// argument it used.
func (g *getoptExtractor) cluster(argv []value, ai int, spec optspec, emit func(name string, val *string)) int {
	arg := argv[ai].s
	for k := 1; k < len(arg); k++ {
		c := arg[k]
		if c == ':' || !spec.valid[c] {
			if !g.hasSelector {
				emit("?", nil)
			}
			continue
		}
		match := !g.hasSelector || c == g.selector
		name := arg[k : k+1]
		if !spec.withArg[c] {
			if match {
				emit(name, nil)
			}
			continue
		}
		var optval string
		switch {
		case k+1 < len(arg):
			optval = arg[k+1:]
		case ai+1 < len(argv):
			ai++
			optval = argv[ai].s
		default:
			// a missing argument is an empty value
			if match {
				emit("", nil)
			}
			return ai
		}
		if match {
			emit(name, &optval)
		}
		return ai
	}
	return ai
}
