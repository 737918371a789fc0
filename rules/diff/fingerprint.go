package diff

import (
	"hash/fnv"

	"github.com/falcops/falcops/rules/condition"
)

// fingerprint identifies a condition text together with everything it
// reaches: the texts of the macros it references (recursively) and the
// names and items of the lists it names. Equal fingerprints on both sides
// mean equal expanded conditions, so most unchanged items of a diff are
// skipped without normalising them.
type fingerprint [16]byte

// macroPrint is the fingerprint of a macro's condition.
func (s *side) macroPrint(name string) fingerprint {
	if fp, ok := s.prints[name]; ok {
		return fp
	}
	s.prints[name] = fingerprint{} // cut reference loops
	m := s.rs.Macro(name)
	if m == nil {
		return fingerprint{}
	}
	fp := s.textPrint(m.Condition.Value, s.parsedMacro(name))
	s.prints[name] = fp
	return fp
}

// conditionPrint is the fingerprint of a rule's condition text.
func (s *side) conditionPrint(text string) fingerprint {
	e, err := condition.Parse(text)
	if err != nil {
		e = nil
	}
	return s.textPrint(text, e)
}

func (s *side) textPrint(text string, e condition.Expr) fingerprint {
	h := fnv.New128a()
	write := func(parts ...string) {
		for _, p := range parts {
			_, _ = h.Write([]byte(p))
			_, _ = h.Write([]byte{0})
		}
	}
	write("text", text)
	list := func(name string) {
		if s.rs.List(name) == nil {
			return
		}
		write("list", name)
		write(s.items(name)...)
	}
	condition.Walk(e, func(n condition.Expr) bool {
		switch x := n.(type) {
		case *condition.Identifier:
			if s.rs.Macro(x.Name) != nil {
				fp := s.macroPrint(x.Name)
				write("macro", x.Name, string(fp[:]))
			}
		case *condition.Value:
			list(x.Value)
		case *condition.List:
			for _, v := range x.Values {
				list(v)
			}
		}
		return true
	})
	var fp fingerprint
	copy(fp[:], h.Sum(nil))
	return fp
}
