package rules

import (
	"testing"

	"github.com/falcops/falcops/rules/condition"
)

// TestQuotedListItems: Falco substitutes list items into the condition text,
// so an item written with quotes reads as the quoted string's content.
func TestQuotedListItems(t *testing.T) {
	rs := LoadBytes("q.yaml", []byte(`- list: nets
  items: ['"10.0.0.0/8"', "'192.168.0.0/16'", plain, '"with space"']
- rule: r
  desc: d
  condition: evt.type = connect and fd.snet in (nets)
  output: o
  priority: INFO
`), Options{})
	if len(rs.Findings) != 0 {
		t.Fatalf("findings: %v", rs.Findings)
	}
	e := rs.Expand(rs.Rule("r"))
	var got []string
	condition.Walk(e, func(n condition.Expr) bool {
		if l, ok := n.(*condition.List); ok {
			got = l.Values
		}
		return true
	})
	want := []string{"10.0.0.0/8", "192.168.0.0/16", "plain", "with space"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestModifierOperators(t *testing.T) {
	for op, want := range map[string]bool{"startswith oneof": true, "= anyof": true, "!= allof": true, "== oneof": true, "in oneof": false, "startswith": false, "glob someof": false} {
		if got := condition.IsModifierOperator(op); got != want {
			t.Errorf("IsModifierOperator(%q) = %v, want %v", op, got, want)
		}
	}
}
