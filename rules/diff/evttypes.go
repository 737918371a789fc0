package diff

import (
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

// eventTypes computes the event types a normalised condition can match, as
// libsinsp's event code search does (and the loader's Rule.EventTypes):
// checks on evt.type give their names, every other check matches all event
// types; the tree is already in negation normal form.
func (s *side) eventTypes(n *node) rules.EventTypes {
	if v, ok := s.evt[n]; ok {
		return v
	}
	var out rules.EventTypes
	switch n.kind {
	case kTrue:
		out = rules.AllEventTypes()
	case kFalse:
		out = rules.EventTypesOf()
	case kAnd:
		out = rules.AllEventTypes()
		for _, k := range n.kids {
			out = out.Intersect(s.eventTypes(k))
		}
	case kOr:
		out = rules.EventTypesOf()
		for _, k := range n.kids {
			out = out.Union(s.eventTypes(k))
		}
	default:
		out = leafEventTypes(n)
	}
	s.evt[n] = out
	return out
}

func leafEventTypes(n *node) rules.EventTypes {
	switch x := n.expr.(type) {
	case *condition.UnaryCheck:
		if isEvtType(x.Left) && x.Op == "exists" && n.neg {
			return rules.EventTypesOf()
		}
	case *condition.BinaryCheck:
		if !isEvtType(x.Left) {
			break
		}
		var names []string
		switch x.Op {
		case "=", "!=", "in":
		default:
			return rules.AllEventTypes()
		}
		switch r := x.Right.(type) {
		case *condition.Value:
			names = []string{r.Value}
		case *condition.List:
			names = r.Values
		default:
			return rules.AllEventTypes()
		}
		known := make([]string, 0, len(names))
		for _, name := range names {
			if fields.EventCodes(name) > 0 {
				known = append(known, name)
			}
		}
		s := rules.EventTypesOf(known...)
		if x.Op == "!=" {
			s = s.Complement()
		}
		if n.neg {
			s = s.Complement()
		}
		return s
	}
	return rules.AllEventTypes()
}

func isEvtType(e condition.Expr) bool {
	f, ok := e.(*condition.Field)
	return ok && !f.HasArg && (f.Name == "evt.type" || f.Name == "syscall.type")
}
