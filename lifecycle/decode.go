package lifecycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
)

// document is one decoded FalcoProfile with the YAML nodes of its fields,
// keyed by JSON path ("spec.versions.falco[2].expirationDate"), so that
// later checks can name positions.
type document struct {
	file  string
	obj   *profilev1alpha1.FalcoProfile
	root  *yaml.Node
	nodes map[string]*yaml.Node
}

// pos returns the position of the node at path, else of its closest
// recorded ancestor, else of the document.
func (d *document) pos(path string) diag.Position {
	for p := path; ; {
		if n, ok := d.nodes[p]; ok {
			return nodePosition(d.file, n)
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return nodePosition(d.file, d.root)
		}
		p = p[:i]
	}
}

func nodePosition(file string, n *yaml.Node) diag.Position {
	if n == nil {
		return diag.At(file, 1, 1)
	}
	return diag.At(file, n.Line, n.Column)
}

// decodeFile decodes every YAML document in data strictly into
// FalcoProfiles. Empty documents are skipped.
func decodeFile(file string, data []byte) ([]*document, diag.Findings) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*document
	var problems diag.Findings
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			msg, line := diag.FromYAML(err)
			return docs, append(problems, problem(diag.At(file, max(line, 1), 1), "YAML: %s", msg))
		}
		root := &n
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		if isNull(root) {
			continue
		}
		d, ps := decodeDocument(file, root)
		problems = append(problems, ps...)
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs, problems
}

func decodeDocument(file string, root *yaml.Node) (*document, diag.Findings) {
	w := &walker{file: file, nodes: map[string]*yaml.Node{}, aliasBudget: 10000}
	generic := w.walk(root, reflect.TypeFor[profilev1alpha1.FalcoProfile](), "")
	if len(w.problems) > 0 {
		return nil, w.problems
	}
	raw, err := json.Marshal(generic)
	if err != nil {
		return nil, diag.Findings{problem(nodePosition(file, root), "%v", err)}
	}
	obj := &profilev1alpha1.FalcoProfile{}
	jd := json.NewDecoder(bytes.NewReader(raw))
	jd.DisallowUnknownFields()
	if err := jd.Decode(obj); err != nil {
		// The walk checked structure and types; what is left are values
		// of custom types such as metadata.creationTimestamp.
		return nil, diag.Findings{problem(nodePosition(file, root), "%v", err)}
	}
	return &document{file: file, obj: obj, root: root, nodes: w.nodes}, nil
}

// walker turns a YAML node tree into the generic value encoding/json would
// see for the Go type t, reporting unknown fields, duplicate keys and type
// mismatches at their YAML positions. Field names are the JSON names and
// match exactly, as in Kubernetes' strict decoding.
type walker struct {
	file        string
	nodes       map[string]*yaml.Node
	problems    diag.Findings
	aliasBudget int // bounds alias expansion ("billion laughs")
}

func (w *walker) problem(n *yaml.Node, format string, args ...any) {
	w.problems = append(w.problems, problem(nodePosition(w.file, n), format, args...))
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// walk returns the generic value of node n, which decodes into Go type t
// at path, and records n as the node of path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) any {
	if n.Kind == yaml.AliasNode {
		w.aliasBudget--
		if w.aliasBudget < 0 {
			w.problem(n, "too many YAML aliases")
			return nil
		}
		n = n.Alias
	}
	if _, ok := w.nodes[path]; !ok {
		w.nodes[path] = n
	}
	if isNull(n) {
		return nil
	}
	where := path
	if where == "" {
		where = "the document"
	}
	switch {
	case reflect.PointerTo(t).Implements(jsonUnmarshaler):
		return w.custom(n, where)
	case t.Kind() == reflect.Pointer:
		return w.walk(n, t.Elem(), path)
	case t.Kind() == reflect.Struct:
		return w.structValue(n, t, path, where)
	case t.Kind() == reflect.Map:
		return w.mapValue(n, t, path, where)
	case t.Kind() == reflect.Slice:
		return w.listValue(n, t, path, where)
	}
	return w.scalarValue(n, t, where)
}

// custom hands a type with its own JSON decoding (metav1.Time, ...) the
// plain value.
func (w *walker) custom(n *yaml.Node, where string) any {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		w.problem(n, "%s: %v", where, err)
	}
	return v
}

// structValue walks a mapping into struct t: every key must be one of t's
// JSON field names, exactly.
func (w *walker) structValue(n *yaml.Node, t reflect.Type, path, where string) any {
	if n.Kind != yaml.MappingNode {
		w.problem(n, "%s: want a mapping, got %s", where, describe(n))
		return nil
	}
	fields := jsonFields(t)
	if path == "" {
		// A profile in Git is desired state: its status is the
		// controller's to write, never a file's.
		delete(fields, "status")
	}
	out := map[string]any{}
	w.mapping(n, where, func(k, v *yaml.Node) {
		f, ok := fields[k.Value]
		if !ok {
			w.problem(k, "unknown field %q in %s", k.Value, where)
			return
		}
		out[k.Value] = w.walk(v, f, join(path, k.Value))
	})
	return out
}

// mapValue walks a mapping into map type t.
func (w *walker) mapValue(n *yaml.Node, t reflect.Type, path, where string) any {
	if n.Kind != yaml.MappingNode {
		w.problem(n, "%s: want a mapping, got %s", where, describe(n))
		return nil
	}
	out := map[string]any{}
	w.mapping(n, where, func(k, v *yaml.Node) {
		out[k.Value] = w.walk(v, t.Elem(), join(path, k.Value))
	})
	return out
}

// listValue walks a sequence into slice type t ([]byte is base64 text).
func (w *walker) listValue(n *yaml.Node, t reflect.Type, path, where string) any {
	if t.Elem().Kind() == reflect.Uint8 {
		return w.scalar(n, where, "a base64 string", "!!str")
	}
	if n.Kind != yaml.SequenceNode {
		w.problem(n, "%s: want a list, got %s", where, describe(n))
		return nil
	}
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		out = append(out, w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

// scalarValue checks a scalar against the kind of t by its YAML tag.
func (w *walker) scalarValue(n *yaml.Node, t reflect.Type, where string) any {
	switch t.Kind() {
	case reflect.String:
		// An unquoted date-time is a YAML timestamp; Kubernetes reads it as
		// its text. Numbers and booleans are not strings: quote them.
		return w.scalar(n, where, "a string", "!!str", "!!timestamp")
	case reflect.Bool:
		return w.typed(n, where, "a boolean", "!!bool", new(bool))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return w.typed(n, where, "an integer", "!!int", new(int64))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return w.typed(n, where, "an integer", "!!int", new(uint64))
	case reflect.Float32, reflect.Float64:
		return w.typed(n, where, "a number", "!!float", new(float64), "!!int")
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			w.problem(n, "%s: %v", where, err)
		}
		return v
	}
}

// mapping calls f for each key and value of n, reporting duplicate and
// non-string keys.
func (w *walker) mapping(n *yaml.Node, where string, f func(k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			w.problem(k, "%s: keys must be plain strings", where)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			w.problem(k, "duplicate key %q in %s (first at line %d)", k.Value, where, first.Line)
			continue
		}
		seen[k.Value] = k
		f(k, v)
	}
}

func (w *walker) scalar(n *yaml.Node, where, want string, tags ...string) any {
	if n.Kind == yaml.ScalarNode {
		for _, tag := range tags {
			if n.Tag == tag {
				return n.Value
			}
		}
	}
	w.problem(n, "%s: want %s, got %s (quote the value)", where, want, describe(n))
	return nil
}

func (w *walker) typed(n *yaml.Node, where, want, tag string, ptr any, more ...string) any {
	ok := n.Kind == yaml.ScalarNode && n.Tag == tag
	for _, m := range more {
		ok = ok || (n.Kind == yaml.ScalarNode && n.Tag == m)
	}
	if !ok {
		w.problem(n, "%s: want %s, got %s", where, want, describe(n))
		return nil
	}
	if err := n.Decode(ptr); err != nil {
		w.problem(n, "%s: %v", where, err)
		return nil
	}
	return reflect.ValueOf(ptr).Elem().Interface()
}

// jsonFields maps the JSON names of t's fields (with embedded structs
// without a name promoted, as encoding/json does) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	default:
		return "a YAML node"
	}
}
