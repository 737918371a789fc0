package rules

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"
)

// Source is one rules file's bytes, with the line index needed to turn byte
// offsets into positions. It is built lazily: positions are only needed for
// findings.
type Source struct {
	Name       string
	Data       []byte
	lineStarts []int
}

func (s *Source) lines() []int {
	if s.lineStarts == nil {
		s.lineStarts = append(s.lineStarts, 0)
		for i, c := range s.Data {
			if c == '\n' {
				s.lineStarts = append(s.lineStarts, i+1)
			}
		}
	}
	return s.lineStarts
}

// offset converts a 1-based line and character column to a byte offset.
func (s *Source) offset(line, col int) int {
	ls := s.lines()
	if line < 1 {
		return 0
	}
	if line > len(ls) {
		return len(s.Data)
	}
	off := ls[line-1]
	for c := 1; c < col && off < len(s.Data) && s.Data[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(s.Data[off:])
		off += n
	}
	return off
}

// position converts a byte offset to a 1-based line and character column.
func (s *Source) position(off int) diag.Position {
	ls := s.lines()
	lo, hi := 0, len(ls)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if ls[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if off > len(s.Data) {
		off = len(s.Data)
	}
	return diag.Position{Line: lo + 1, Column: utf8.RuneCount(s.Data[ls[lo]:off]) + 1}
}

// nodePos is the position of a node as the YAML parser reports it.
func nodePos(n *yaml.Node) diag.Position {
	if n == nil {
		return diag.Position{Line: 1, Column: 1}
	}
	return diag.Position{Line: n.Line, Column: n.Column}
}

// valuePos maps a byte offset inside a scalar node's value to its position in
// the file. Folding and indentation make the value differ from the source, so
// the value is aligned with the source character by character, skipping the
// source's white space, node properties (anchor, tag) and quoting, and
// decoding the escapes of quoted scalars.
func (s *Source) valuePos(n *yaml.Node, off int) diag.Position {
	start := s.skipProperties(s.offset(n.Line, n.Column))
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		for start < len(s.Data) && s.Data[start] != '\n' {
			start++
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if start < len(s.Data) && (s.Data[start] == '"' || s.Data[start] == '\'') {
			start++
		}
	}
	v := n.Value
	if off > len(v) {
		off = len(v)
	}
	// An offset in trailing white space (the end of the condition, typically)
	// is reported just after the last visible character: block scalars end
	// with a line break that would otherwise point at the next line.
	if trimmed := len(strings.TrimRight(v, " \t\r\n")); off >= trimmed && trimmed > 0 {
		off = trimmed
	}
	j := start
	for i := 0; i < off && j < len(s.Data); {
		c := v[i]
		k := j
		for k < len(s.Data) && s.Data[k] != c && isYAMLSpace(s.Data[k]) {
			k++
		}
		if n.Style == yaml.DoubleQuotedStyle && k < len(s.Data) && s.Data[k] == '\\' {
			consumed, produced := dqEscape(s.Data[k:])
			j = k + consumed
			i += produced
			continue
		}
		if k < len(s.Data) && s.Data[k] == c {
			j = k + 1
			if n.Style == yaml.SingleQuotedStyle && c == '\'' && j < len(s.Data) && s.Data[j] == '\'' {
				j++ // '' stands for one quote
			}
			i++
			continue
		}
		j++ // folding we cannot align: advance anyway
		i++
	}
	// Land on the character itself, not on white space before it.
	for j < len(s.Data) && off < len(v) && isYAMLSpace(s.Data[j]) && !isYAMLSpace(v[off]) {
		j++
	}
	return s.position(j)
}

// skipProperties skips the anchor and tag that may precede a node's content
// (yaml.v3 reports the position of the first property).
func (s *Source) skipProperties(i int) int {
	for i < len(s.Data) && (s.Data[i] == '&' || s.Data[i] == '!') {
		for i < len(s.Data) && !isYAMLSpace(s.Data[i]) {
			i++
		}
		for i < len(s.Data) && isYAMLSpace(s.Data[i]) {
			i++
		}
	}
	return i
}

// dqEscape measures the escape sequence at the start of b (b[0] is a
// backslash) in a double-quoted scalar: how many source bytes it takes and
// how many value bytes it produces.
func dqEscape(b []byte) (consumed, produced int) {
	if len(b) < 2 {
		return len(b), 0
	}
	hex := 0
	switch b[1] {
	case '\r', '\n': // escaped line break: the break and the next line's indentation vanish
		i := 2
		if b[1] == '\r' && i < len(b) && b[i] == '\n' {
			i++
		}
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		return i, 0
	case 'x':
		hex = 2
	case 'u':
		hex = 4
	case 'U':
		hex = 8
	case 'N', '_':
		return 2, 2 // U+0085, U+00A0: two bytes in UTF-8
	case 'L', 'P':
		return 2, 3 // U+2028, U+2029
	default:
		return 2, 1
	}
	if len(b) < 2+hex {
		return len(b), 1
	}
	r, err := strconv.ParseUint(string(b[2:2+hex]), 16, 32)
	if err != nil {
		return 2 + hex, 1
	}
	if n := utf8.RuneLen(rune(r)); n > 0 {
		return 2 + hex, n
	}
	return 2 + hex, 3 // invalid code point: U+FFFD
}

func isYAMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Text is a string assembled from pieces of YAML scalars (a condition with
// appends and compiled exceptions), remembering where each piece came from.
type Text struct {
	Value string
	segs  []segment
	// pending holds appended pieces not yet joined into Value, so that many
	// appends cost linear time: the loader joins them (flush) once every
	// file is read.
	pending []string
	length  int // len(Value) plus the pending pieces
}

type segment struct {
	start int // offset in Value
	src   *Source
	node  *yaml.Node
	exact bool // the piece is the node's value verbatim
}

// scalarText is the text of one scalar node.
func scalarText(src *Source, n *yaml.Node) Text {
	return Text{Value: n.Value, segs: []segment{{0, src, n, true}}}
}

// appendText adds sep and o to t, as Falco concatenates appended conditions.
// Value is complete only after flush.
func (t *Text) appendText(sep string, o Text) {
	o.flush()
	if len(t.pending) == 0 {
		t.length = len(t.Value)
	}
	base := t.length + len(sep)
	t.pending = append(t.pending, sep, o.Value)
	t.length = base + len(o.Value)
	for _, sg := range o.segs {
		sg.start += base
		t.segs = append(t.segs, sg)
	}
}

// flush joins the pending appended pieces into Value.
func (t *Text) flush() {
	if len(t.pending) == 0 {
		return
	}
	var b strings.Builder
	b.Grow(t.length)
	b.WriteString(t.Value)
	for _, p := range t.pending {
		b.WriteString(p)
	}
	t.Value, t.pending = b.String(), nil
}

// appendRaw adds generated text attributed to node n (not verbatim).
func (t *Text) appendRaw(s string, src *Source, n *yaml.Node) {
	t.flush()
	t.segs = append(t.segs, segment{len(t.Value), src, n, false})
	t.Value += s
}

// wrap surrounds the text, keeping attributions.
func (t *Text) wrap(prefix, suffix string) {
	t.flush()
	for i := range t.segs {
		t.segs[i].start += len(prefix)
	}
	if len(t.segs) > 0 {
		t.segs[0].start = 0
		if t.segs[0].exact {
			// keep the first piece exact: shift it back to its real start
			t.segs = append([]segment{{0, t.segs[0].src, t.segs[0].node, false}}, t.segs...)
			t.segs[1].start = len(prefix)
		}
	}
	t.Value = prefix + t.Value + suffix
}

// Position maps an offset in the text to the file and position it came from.
func (t Text) Position(off int) diag.Position {
	if len(t.segs) == 0 {
		return diag.Position{Line: 1, Column: 1}
	}
	i := len(t.segs) - 1
	for i > 0 && t.segs[i].start > off {
		i--
	}
	sg := t.segs[i]
	if !sg.exact {
		return nodePos(sg.node).In(sg.src.Name)
	}
	return sg.src.valuePos(sg.node, off-sg.start).In(sg.src.Name)
}
