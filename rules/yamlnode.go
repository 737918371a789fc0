package rules

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Accessors for the YAML nodes of a rules file. They decode values as Falco's
// yaml-cpp based reader does (decode_val, decode_seq), and report a value of
// the wrong shape with Falco's message at the offending node.

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// get returns the value of key in a mapping, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return deref(m.Content[i+1])
		}
	}
	return nil
}

// keyNode returns the key node of key in a mapping, or the mapping itself.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func has(m *yaml.Node, key string) bool {
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// scalar decodes a required or optional non-empty scalar as Falco's
// decode_val does. It returns the value node (nil when absent and optional).
func (l *loader) scalar(item *yaml.Node, key string, optional, canBeEmpty bool) (string, *yaml.Node) {
	if !has(item, key) {
		if optional {
			return "", nil
		}
		l.fail(ErrYAMLValidate, "Item has no mapping for key '"+key+"'", item)
	}
	v := get(item, key)
	if isNull(v) {
		if canBeEmpty {
			return "", nil
		}
		l.fail(ErrYAMLValidate, "Mapping for key '"+key+"' is empty", keyNode(item, key))
	}
	if v.Kind != yaml.ScalarNode {
		l.fail(ErrYAMLValidate, "Value is not a scalar value", v)
	}
	if v.Value == "" && !canBeEmpty {
		l.fail(ErrYAMLValidate, "Value must be non-empty", v)
	}
	return v.Value, v
}

func (l *loader) str(item *yaml.Node, key string) (string, *yaml.Node) {
	return l.scalar(item, key, false, false)
}

func parseBool(s string) (bool, bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}

// optBool decodes an optional boolean; present reports whether it was given.
func (l *loader) optBool(item *yaml.Node, key string) (value, present bool) {
	s, n := l.scalar(item, key, true, false)
	if n == nil {
		return false, false
	}
	b, ok := parseBool(s)
	if !ok {
		l.fail(ErrYAMLValidate, "Can't decode YAML scalar value", n)
	}
	return b, true
}

func (l *loader) reqBool(item *yaml.Node, key string) bool {
	s, n := l.str(item, key)
	b, ok := parseBool(s)
	if !ok {
		l.fail(ErrYAMLValidate, "Can't decode YAML scalar value", n)
	}
	return b
}

func (l *loader) uint(item *yaml.Node, key string, optional bool) (uint64, bool) {
	s, n := l.scalar(item, key, optional, false)
	if n == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		l.fail(ErrYAMLValidate, "Can't decode YAML scalar value", n)
	}
	return v, true
}

// seq decodes a sequence of scalars (items, tags).
func (l *loader) seq(item *yaml.Node, key string, optional bool) ([]string, bool) {
	if !has(item, key) {
		if optional {
			return nil, false
		}
		l.fail(ErrYAMLValidate, "Item has no mapping for key '"+key+"'", item)
	}
	v := get(item, key)
	if v.Kind != yaml.SequenceNode {
		l.fail(ErrYAMLValidate, "Value is not a sequence", v)
	}
	out := make([]string, 0, len(v.Content))
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode {
			l.fail(ErrYAMLValidate, "sequence value is not scalar", e)
		}
		out = append(out, e.Value)
	}
	return out, true
}

func valueOr(v, fallback *yaml.Node) *yaml.Node {
	if v != nil {
		return v
	}
	return fallback
}

// text decodes a required non-empty scalar as a Text, which keeps where each
// byte of it is written (a condition or an output).
func (l *loader) text(item *yaml.Node, key string) Text {
	_, n := l.str(item, key)
	return scalarText(l.src, n)
}
