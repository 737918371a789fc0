package lifecycle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// editor splices text into one YAML file at the positions yaml.v3
// reports, never re-marshalling it, so comments, key order and formatting
// outside the edited bytes stay as they were. It knows YAML, not what the
// file means: callers find the nodes and decide what to change.
type editor struct {
	file string // named in errors
	src  []byte // the original file
	out  []byte // the file being edited
	docs []*yaml.Node
	// lineStarts are the byte offsets of each line of src (0-based index).
	lineStarts []int
	// applied are the splices made so far, in src offsets, to map later
	// src offsets into out.
	applied []splice
}

// newEditor parses src, the content of file, for editing. Documents whose
// root is not a mapping are kept but offer no nodes.
func newEditor(file string, src []byte) (*editor, error) {
	e := &editor{file: file, src: src, out: bytes.Clone(src)}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 && n.Content[0].Kind == yaml.MappingNode {
			e.docs = append(e.docs, n.Content[0])
		}
	}
	e.lineStarts = []int{0}
	for i, b := range src {
		if b == '\n' {
			e.lineStarts = append(e.lineStarts, i+1)
		}
	}
	return e, nil
}

// offset is the byte offset of n's position in src.
func (e *editor) offset(n *yaml.Node) int {
	start := e.lineStarts[n.Line-1]
	// Column counts characters; advance by runes.
	off := start
	for c := 1; c < n.Column; c++ {
		_, size := decodeRune(e.src[off:])
		off += size
	}
	return off
}

func decodeRune(b []byte) (rune, int) {
	r, size := utf8.DecodeRune(b)
	return r, max(size, 1)
}

// splice is an applied edit: at src offset at, out grew by delta bytes.
type splice struct{ at, delta int }

func (e *editor) splice(from, to int, text string) {
	e.out = append(e.out[:from:from], append([]byte(text), e.out[to:]...)...)
}

// scalarEnd is the src offset just after scalar n.
func (e *editor) scalarEnd(n *yaml.Node) (int, error) {
	off := e.offset(n)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := off + 1; i < len(e.src); i++ {
			switch e.src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			case '\n':
				return 0, fmt.Errorf("%s:%d: cannot edit a multi-line value", e.file, n.Line)
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := off + 1; i < len(e.src); i++ {
			switch e.src[i] {
			case '\'':
				if i+1 < len(e.src) && e.src[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			case '\n':
				return 0, fmt.Errorf("%s:%d: cannot edit a multi-line value", e.file, n.Line)
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Tag != "" && !strings.Contains(n.Value, "\n") &&
		bytes.HasPrefix(e.src[off:], []byte(n.Value)):
		return off + len(n.Value), nil
	}
	return 0, fmt.Errorf("%s:%d:%d: cannot edit this value in place", e.file, n.Line, n.Column)
}

// edit replaces src[from:to] by text. Positions always come from src
// (the parsed original); apply maps them into out, so edits at distinct
// places can be applied in any order.
type edit struct {
	from, to int
	text     string
}

func (e *editor) apply(edits ...edit) {
	// Map src offsets to out offsets: out = src + sum of deltas of applied
	// edits that lie before.
	for _, ed := range edits {
		from, to := e.mapOff(ed.from), e.mapOff(ed.to)
		e.splice(from, to, ed.text)
		e.applied = append(e.applied, splice{ed.from, len(ed.text) - (ed.to - ed.from)})
	}
}

func (e *editor) mapOff(off int) int {
	out := off
	for _, s := range e.applied {
		if s.at < off {
			out += s.delta
		}
	}
	return out
}

func (e *editor) replaceScalar(n *yaml.Node, value string) error {
	end, err := e.scalarEnd(n)
	if err != nil {
		return err
	}
	var text string
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		text = strconv.Quote(value)
	case n.Style&yaml.SingleQuotedStyle != 0:
		text = "'" + strings.ReplaceAll(value, "'", "''") + "'"
	default:
		text = plainOrQuoted(value)
	}
	e.apply(edit{e.offset(n), end, text})
	return nil
}

// value returns the value node of key in mapping m.
func (e *editor) value(m *yaml.Node, key string) (*yaml.Node, bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1], true
		}
	}
	return nil, false
}

func (e *editor) path(keys ...string) (*yaml.Node, error) {
	for _, d := range e.docs {
		n := d
		for _, k := range keys {
			if n == nil || n.Kind != yaml.MappingNode {
				n = nil
				break
			}
			n, _ = e.value(n, k)
		}
		if n != nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%s: no %s", e.file, strings.Join(keys, "."))
}

func (e *editor) seq(keys ...string) (*yaml.Node, error) {
	n, err := e.path(keys...)
	if err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 {
		return nil, fmt.Errorf("%s:%d: %s: can only append to a non-empty block list (- items)", e.file, n.Line, strings.Join(keys, "."))
	}
	return n, nil
}

// lineEnd is the src offset just after the newline ending the line of off.
func (e *editor) lineEnd(off int) int {
	if i := bytes.IndexByte(e.src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(e.src)
}

// onlyBlank reports whether src[from:to] holds only spaces and tabs.
func (e *editor) onlyBlank(from, to int) bool {
	return len(bytes.Trim(e.src[from:to], " \t")) == 0
}

// removeKey removes key and its value from mapping m: its lines in a
// block mapping, its "key: value" and one comma in a flow mapping.
func (e *editor) removeKey(m *yaml.Node, key string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value != key {
			continue
		}
		kOff := e.offset(k)
		vEnd, err := e.scalarEnd(v)
		if err != nil {
			return err
		}
		if m.Style&yaml.FlowStyle != 0 {
			if i > 0 { // from the end of the previous value
				prevEnd, err := e.scalarEnd(m.Content[i-1])
				if err != nil {
					return err
				}
				e.apply(edit{prevEnd, vEnd, ""})
				return nil
			}
			if i+2 < len(m.Content) { // up to the next key
				e.apply(edit{kOff, e.offset(m.Content[i+2]), ""})
				return nil
			}
			e.apply(edit{kOff, vEnd, ""})
			return nil
		}
		lineStart := e.lineStarts[k.Line-1]
		end := e.lineEnd(vEnd - 1)
		if !e.onlyBlank(lineStart, kOff) || (i+2 < len(m.Content) && m.Content[i+2].Line == v.Line) {
			return fmt.Errorf("%s:%d: cannot remove %s: put it on a line of its own", e.file, k.Line, key)
		}
		if rest := bytes.TrimSpace(e.src[vEnd:end]); len(rest) > 0 && rest[0] != '#' {
			return fmt.Errorf("%s:%d: cannot remove %s: unexpected text after it", e.file, k.Line, key)
		}
		e.apply(edit{lineStart, end, ""})
		return nil
	}
	return nil
}

// insertKeyAfter inserts "key: text" after the value after of mapping m:
// as ", key: text" in a flow mapping, on a new line with the indentation
// of the keys in a block mapping.
func (e *editor) insertKeyAfter(m, after *yaml.Node, key, text string) error {
	end, err := e.scalarEnd(after)
	if err != nil {
		return err
	}
	if m.Style&yaml.FlowStyle != 0 {
		e.apply(edit{end, end, ", " + key + ": " + text})
		return nil
	}
	k := m.Content[0]
	lineEnd := e.lineEnd(end - 1)
	line := strings.Repeat(" ", k.Column-1) + key + ": " + text
	if lineEnd == len(e.src) && (lineEnd == 0 || e.src[lineEnd-1] != '\n') {
		line = "\n" + line // the file keeps lacking its final newline
	} else {
		line += "\n"
	}
	e.apply(edit{lineEnd, lineEnd, line})
	return nil
}

type kv struct{ key, value string }

// appendItem appends a mapping to block sequence s after its last item,
// in the style of that item (flow {k: v, ...} or block mapping), with the
// keys in the order of the last item where it has them.
func (e *editor) appendItem(s *yaml.Node, kvs []kv) error {
	last := s.Content[len(s.Content)-1]
	if last.Kind != yaml.MappingNode || len(last.Content) == 0 {
		return fmt.Errorf("%s:%d: cannot append after this item", e.file, last.Line)
	}
	ordered := orderLike(last, kvs)
	dashLine := e.lineStarts[last.Line-1]
	itemOff := e.offset(last)
	// The "- " prefix: indentation up to the dash, and what follows it.
	prefix := string(e.src[dashLine:itemOff])
	dash := strings.Index(prefix, "-")
	if dash < 0 || strings.TrimSpace(prefix) != "-" {
		return fmt.Errorf("%s:%d: cannot append after this item", e.file, last.Line)
	}
	var text strings.Builder
	var end int
	if last.Style&yaml.FlowStyle != 0 {
		close, err := e.flowEnd(itemOff)
		if err != nil {
			return err
		}
		end = e.lineEnd(close)
		inner := string(e.src[itemOff+1 : close])
		pad := ""
		if strings.HasPrefix(inner, " ") {
			pad = " "
		}
		text.WriteString(prefix + "{" + pad)
		for i, p := range ordered {
			if i > 0 {
				text.WriteString(", ")
			}
			text.WriteString(p.key + ": " + plainOrQuoted(p.value))
		}
		text.WriteString(pad + "}\n")
	} else {
		lastVal := last.Content[len(last.Content)-1]
		vEnd, err := e.scalarEnd(lastVal)
		if err != nil {
			return err
		}
		end = e.lineEnd(vEnd - 1)
		indent := strings.Repeat(" ", len(prefix))
		for i, p := range ordered {
			lead := indent
			if i == 0 {
				lead = prefix
			}
			text.WriteString(lead + p.key + ": " + plainOrQuoted(p.value) + "\n")
		}
	}
	if end == len(e.src) && (end == 0 || e.src[end-1] != '\n') {
		e.apply(edit{end, end, "\n" + strings.TrimSuffix(text.String(), "\n")})
		return nil
	}
	e.apply(edit{end, end, text.String()})
	return nil
}

// orderLike orders kvs like the keys of mapping m: m's keys first, in m's
// order, then the rest in their own order.
func orderLike(m *yaml.Node, kvs []kv) []kv {
	var ordered []kv
	for i := 0; i < len(m.Content); i += 2 {
		for _, p := range kvs {
			if p.key == m.Content[i].Value {
				ordered = append(ordered, p)
			}
		}
	}
	for _, p := range kvs {
		found := false
		for _, o := range ordered {
			found = found || o.key == p.key
		}
		if !found {
			ordered = append(ordered, p)
		}
	}
	return ordered
}

// flowEnd is the src offset of the "}" closing the flow mapping at off.
func (e *editor) flowEnd(off int) (int, error) {
	depth := 0
	quote := byte(0)
	for i := off; i < len(e.src); i++ {
		c := e.src[i]
		switch {
		case quote == '"' && c == '\\':
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
		case c == '"' || c == '\'':
			quote = c
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				if c != '}' {
					break
				}
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("%s: unterminated flow mapping", e.file)
}

// styledLike writes value quoted like the first scalar value of key in
// the file: single or double quotes, or plain (value as it is); double
// quotes when the file has no such key.
func (e *editor) styledLike(key, value string) string {
	style := yaml.DoubleQuotedStyle
	var find func(n *yaml.Node) bool
	find = func(n *yaml.Node) bool {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; k.Value == key && v.Kind == yaml.ScalarNode {
					style = v.Style
					return true
				}
			}
		}
		for _, c := range n.Content {
			if find(c) {
				return true
			}
		}
		return false
	}
	for _, d := range e.docs {
		if find(d) {
			break
		}
	}
	switch {
	case style&yaml.SingleQuotedStyle != 0:
		return "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case style&yaml.DoubleQuotedStyle != 0:
		return strconv.Quote(value)
	default:
		return value
	}
}

var plainRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/+-]*$`)

// plainOrQuoted writes value plain when YAML reads it back as that string,
// else double-quoted.
func plainOrQuoted(value string) string {
	if plainRe.MatchString(value) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(value), &n) == nil && len(n.Content) == 1 &&
			n.Content[0].Tag == "!!str" && n.Content[0].Value == value {
			return value
		}
	}
	return strconv.Quote(value)
}
