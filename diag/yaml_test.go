package diag

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestFromYAML(t *testing.T) {
	cases := []struct {
		doc, msg string
		line     int
	}{
		{"a: [1, 2\nb: 3\n", "did not find expected ',' or ']'", 2},              // parser error: 0-based in yaml.v3
		{"a: 1\n\tb: 2\n", "found a tab character that violates indentation", 2}, // scanner error
		{"- a\n- b: [\n", "did not find expected node content", 3},
	}
	for _, c := range cases {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(c.doc), &n)
		if err == nil {
			t.Fatalf("%q parsed", c.doc)
		}
		msg, line := FromYAML(err)
		if msg != c.msg || line != c.line {
			t.Errorf("%q: got %q at %d, want %q at %d (%v)", c.doc, msg, line, c.msg, c.line, err)
		}
	}
	var x struct{ A int }
	err := yaml.Unmarshal([]byte("\n\na: text\n"), &x)
	if msg, line := FromYAML(err); line != 3 || msg == "" {
		t.Errorf("type error: %q at %d (%v)", msg, line, err)
	}
}
