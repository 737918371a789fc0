package rules

import (
	"fmt"
	"strings"

	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

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
