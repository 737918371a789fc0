package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The splicer on its own, on YAML that is not a profile: the edit tests
// cover it through Promote, Deprecate and Add.

const spliceFixture = `# a comment that stays
things:
  - name: a   # first
    colour: "red"
    size: 1
  - {name: b, colour: 'blue', size: 2}
when: '2027-01-01'
`

func newSpliceEditor(t *testing.T, src string) *editor {
	t.Helper()
	e, err := newEditor("things.yaml", []byte(src))
	require.NoError(t, err)
	return e
}

// item returns the mapping of things[i].
func item(t *testing.T, e *editor, i int) *yaml.Node {
	t.Helper()
	s, err := e.seq("things")
	require.NoError(t, err)
	return s.Content[i]
}

func TestEditorReplaceScalarKeepsQuoting(t *testing.T) {
	e := newSpliceEditor(t, spliceFixture)
	red, ok := e.value(item(t, e, 0), "colour")
	require.True(t, ok)
	blue, _ := e.value(item(t, e, 1), "colour")
	size, _ := e.value(item(t, e, 0), "size")
	require.NoError(t, e.replaceScalar(red, "green"))
	require.NoError(t, e.replaceScalar(blue, "it's"))
	require.NoError(t, e.replaceScalar(size, "true")) // plain would read back as a boolean
	assert.Equal(t, `# a comment that stays
things:
  - name: a   # first
    colour: "green"
    size: "true"
  - {name: b, colour: 'it''s', size: 2}
when: '2027-01-01'
`, string(e.out))
}

func TestEditorRemoveAndInsertKey(t *testing.T) {
	e := newSpliceEditor(t, spliceFixture)
	first, second := item(t, e, 0), item(t, e, 1)
	require.NoError(t, e.removeKey(first, "colour"))
	require.NoError(t, e.removeKey(second, "colour"))
	name, _ := e.value(first, "name")
	require.NoError(t, e.insertKeyAfter(first, name, "shape", "round"))
	size, _ := e.value(second, "size")
	require.NoError(t, e.insertKeyAfter(second, size, "when", e.styledLike("when", "2028-01-01")))
	assert.Equal(t, `# a comment that stays
things:
  - name: a   # first
    shape: round
    size: 1
  - {name: b, size: 2, when: '2028-01-01'}
when: '2027-01-01'
`, string(e.out))
}

func TestEditorAppendItem(t *testing.T) {
	block := newSpliceEditor(t, "things:\n  - name: a\n    size: 1\n")
	s, err := block.seq("things")
	require.NoError(t, err)
	// The last item's key order wins; keys it lacks come after.
	require.NoError(t, block.appendItem(s, []kv{{"extra", "x"}, {"size", "2"}, {"name", "b"}}))
	assert.Equal(t, "things:\n  - name: a\n    size: 1\n  - name: b\n    size: \"2\"\n    extra: x\n", string(block.out))

	flow := newSpliceEditor(t, "things:\n- { name: a, size: 1 }")
	s, err = flow.seq("things")
	require.NoError(t, err)
	require.NoError(t, flow.appendItem(s, []kv{{"name", "b"}, {"size", "3"}}))
	assert.Equal(t, "things:\n- { name: a, size: 1 }\n- { name: b, size: \"3\" }", string(flow.out), "no final newline stays so")
}

func TestEditorRefuses(t *testing.T) {
	e := newSpliceEditor(t, "list: [a, b]\nmulti: \"a\n  b\"\nempty: []\n")
	_, err := e.seq("list")
	assert.ErrorContains(t, err, "can only append to a non-empty block list")
	_, err = e.seq("empty")
	assert.ErrorContains(t, err, "can only append to a non-empty block list")
	_, err = e.seq("missing")
	assert.ErrorContains(t, err, "things.yaml: no missing")
	multi, ok := e.value(e.docs[0], "multi")
	require.True(t, ok)
	assert.ErrorContains(t, e.replaceScalar(multi, "x"), "cannot edit a multi-line value")
	assert.Equal(t, string(e.src), string(e.out), "a refused edit changes nothing")
}
