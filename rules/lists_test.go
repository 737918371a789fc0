package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules/condition"
)

// TestQuotedListItems: Falco substitutes list items into the condition text,
// so an item written with quotes reads as the quoted string's content.
func TestQuotedListItems(t *testing.T) {
	rs := LoadBytes("q.yaml", []byte(`- list: nets
  items: ['"10.0.0.0/8"', "'192.168.0.0/16'", plain, '"with space"']
- rule: r
  desc: d
  condition: evt.type = connect and fd.name in (nets)
  output: o
  priority: INFO
`), Options{})
	require.Empty(t, rs.Findings)
	e := rs.Expand(rs.Rule("r"))
	var got []string
	condition.Walk(e, func(n condition.Expr) bool {
		if l, ok := n.(*condition.List); ok {
			got = l.Values
		}
		return true
	})
	assert.Equal(t, []string{"10.0.0.0/8", "192.168.0.0/16", "plain", "with space"}, got)
}

func TestModifierOperators(t *testing.T) {
	for op, want := range map[string]bool{"startswith oneof": true, "= anyof": true, "!= allof": true, "== oneof": true, "in oneof": false, "startswith": false, "glob someof": false} {
		assert.Equal(t, want, condition.IsModifierOperator(op), "IsModifierOperator(%q)", op)
	}
}
