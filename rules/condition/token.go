package condition

import (
	"slices"
	"strings"
)

// The operator tables in the order libsinsp tries them, spelled as libsinsp
// spells them: a trailing blank means the operator must be followed by a blank.
var (
	unaryOps     = []string{"exists"}
	numOps       = []string{"<=", "<", ">=", ">"}
	strOps       = []string{"==", "=", "!=", "glob ", "iglob ", "contains ", "icontains ", "bcontains ", "startswith ", "bstartswith ", "endswith ", "regex "}
	modifierOps  = []string{"oneof ", "anyof ", "allof "}
	listOps      = []string{"intersects", "in", "pmatch"}
	transformers = []string{"tolower(", "toupper(", "b64(", "basename(", "len(", "join(", "concat(", "getopt("}
)

// The tables' operators without their trailing blank, as they appear in a tree.
var (
	strOpNames      = trimAll(strOps)
	modifierOpNames = trimAll(modifierOps)
)

func trimAll(ops []string) []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = strings.TrimSpace(o)
	}
	return out
}

// Operators lists every comparison operator of the grammar (without modifiers).
func Operators() []string {
	var ops []string
	for _, l := range [][]string{unaryOps, numOps, strOps, listOps} {
		ops = append(ops, trimAll(l)...)
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
	// The modifier may also carry the one trailing blank the table spells it with.
	return slices.Contains(strOpNames, base) && slices.Contains(modifierOpNames, strings.TrimSuffix(mod, " "))
}

// IsOperator reports whether op is a comparison operator, with or without modifier.
func IsOperator(op string) bool {
	return slices.Contains(Operators(), op) || IsModifierOperator(op)
}

// transformerNames lists the transformers by name, val included, for error texts.
func transformerNames() []string {
	names := []string{"val"}
	for _, t := range transformers {
		names = append(names, strings.TrimSuffix(t, "("))
	}
	return names
}
