package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"
)

// MaxFileSize bounds how much of one test file is read.
const MaxFileSize = 8 << 20

// Case is one rule test: an event and the rules that must and must not fire
// for it.
type Case struct {
	Name string
	// Description is optional free text.
	Description string
	// Pos is where the case starts (its "- name:" entry), in its file.
	Pos      diag.Position
	Event    *Event
	Fires    []RuleRef
	NotFires []RuleRef
	// Err is set when the case is malformed (an unknown field, a value of the
	// wrong type, ...); such a case cannot run and counts as failed.
	Err *diag.Finding
}

// RuleRef is a rule named in fires or not_fires, with its position.
type RuleRef struct {
	Name string
	Pos  diag.Position
}

// invalid is a problem in a test file.
func invalid(at diag.Position, format string, args ...any) *diag.Finding {
	return &diag.Finding{Code: CodeInvalid, Severity: diag.Error, Message: fmt.Sprintf(format, args...), Position: at}
}

// Load reads the test files of a ruleset's tests folder (*.yaml and *.yml,
// in name order). A missing folder holds no cases. Malformed cases are
// returned with Err set; the findings report files that could not be read
// or parsed at all.
func Load(dir string) ([]*Case, diag.Findings) {
	folder := diag.Position{File: dir}
	info, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, diag.Findings{*invalid(folder, "%v", err)}
	}
	if !info.IsDir() {
		return nil, diag.Findings{*invalid(folder, "%s: not a folder", dir)}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, diag.Findings{*invalid(folder, "%v", err)}
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var cases []*Case
	var fs diag.Findings
	for _, n := range names {
		cs, f := LoadFile(filepath.Join(dir, n))
		cases = append(cases, cs...)
		if f != nil {
			fs = append(fs, *f)
		}
	}
	return cases, fs
}

// LoadFile reads one test file; the finding says why it could not be read
// or parsed to its end.
func LoadFile(path string) ([]*Case, *diag.Finding) {
	start := diag.At(path, 1, 1)
	f, err := os.Open(path)
	if err != nil {
		return nil, invalid(start, "%v", err)
	}
	defer f.Close() //nolint:errcheck // read-only file
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, invalid(start, "%v", err)
	}
	if len(data) > MaxFileSize {
		return nil, invalid(start, "larger than %d bytes", MaxFileSize)
	}
	return Parse(path, data)
}

// Parse reads test cases from YAML: one or more documents, each a sequence
// of cases. name is used in positions.
func Parse(name string, data []byte) ([]*Case, *diag.Finding) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var cases []*Case
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return cases, nil
		}
		if err != nil {
			msg, line := diag.FromYAML(err)
			return cases, invalid(diag.At(name, min(max(line, 1), bytes.Count(data, []byte("\n"))+1), 1), "invalid YAML: %s", msg)
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue
		}
		if root.Kind != yaml.SequenceNode {
			return cases, invalid(pos(name, root), "a test file is a list of cases (- name: ..., event: ..., fires: [...], not_fires: [...])")
		}
		for _, item := range root.Content {
			cases = append(cases, parseCase(name, item))
		}
	}
}

func pos(file string, n *yaml.Node) diag.Position { return diag.At(file, n.Line, n.Column) }

// scalar returns the text of a scalar node; YAML booleans are spelt
// true/false whatever their YAML spelling.
func scalar(n *yaml.Node) string {
	if n.Tag == "!!bool" {
		return strings.ToLower(n.Value)
	}
	return n.Value
}

func parseCase(file string, item *yaml.Node) *Case {
	c := &Case{Pos: pos(file, item)}
	fail := func(n *yaml.Node, format string, args ...any) *Case {
		if c.Err == nil {
			c.Err = invalid(pos(file, n), format, args...)
		}
		return c
	}
	if item.Kind != yaml.MappingNode {
		return fail(item, "a case is a mapping with name, event, fires and not_fires")
	}
	var event *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if seen[k.Value] {
			return fail(k, "key '%s' is given twice", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "name":
			if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
				return fail(v, "name must be a non-empty string")
			}
			c.Name = v.Value
			c.Pos = pos(file, k)
		case "description":
			if v.Kind != yaml.ScalarNode {
				return fail(v, "description must be a string")
			}
			c.Description = v.Value
		case "event":
			event = v
		case "fires", "not_fires":
			refs, err := ruleRefs(file, v)
			if err != "" {
				return fail(v, "%s: %s", k.Value, err)
			}
			if k.Value == "fires" {
				c.Fires = refs
			} else {
				c.NotFires = refs
			}
		default:
			return fail(k, "unknown key '%s' (want name, description, event, fires, not_fires)", k.Value)
		}
	}
	if c.Name == "" {
		return fail(item, "case has no name")
	}
	if event == nil {
		return fail(item, "case '%s' has no event", c.Name)
	}
	if len(c.Fires) == 0 && len(c.NotFires) == 0 {
		return fail(item, "case '%s' names no rule in fires or not_fires", c.Name)
	}
	names := map[string]bool{}
	for _, r := range c.Fires {
		if names[r.Name] {
			return failAt(c, r.Pos, "rule '%s' is listed twice", r.Name)
		}
		names[r.Name] = true
	}
	for _, r := range c.NotFires {
		if names[r.Name] {
			return failAt(c, r.Pos, "rule '%s' is listed in fires and not_fires, or twice", r.Name)
		}
		names[r.Name] = true
	}
	ev, errAt, msg := parseEvent(event)
	if msg != "" {
		return fail(errAt, "%s", msg)
	}
	c.Event = ev
	return c
}

func failAt(c *Case, p diag.Position, format string, args ...any) *Case {
	c.Err = invalid(p, format, args...)
	return c
}

func ruleRefs(file string, v *yaml.Node) ([]RuleRef, string) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return nil, ""
		}
		return []RuleRef{{Name: v.Value, Pos: pos(file, v)}}, ""
	case yaml.SequenceNode:
		out := make([]RuleRef, 0, len(v.Content))
		for _, n := range v.Content {
			if n.Kind != yaml.ScalarNode || n.Value == "" {
				return nil, "expected a list of rule names"
			}
			out = append(out, RuleRef{Name: n.Value, Pos: pos(file, n)})
		}
		return out, ""
	}
	return nil, "expected a list of rule names"
}

// parseEvent builds an event from its mapping: "source" and field keys.
func parseEvent(m *yaml.Node) (*Event, *yaml.Node, string) {
	if m.Kind != yaml.MappingNode {
		return nil, m, "event must be a mapping of field names to values"
	}
	source := ""
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k, v := m.Content[i], m.Content[i+1]; k.Value == "source" {
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, v, "source must be an event source name, e.g. syscall or k8s_audit"
			}
			source = v.Value
		}
	}
	ev, err := NewEvent(source)
	if err != nil {
		return nil, m, err.Error()
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "source" {
			continue
		}
		var vals []string
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			// null: the field is missing (<NA>), same as leaving it out
			if _, err := parseFieldKey(ev.Source, k.Value); err != nil {
				return nil, k, err.Error()
			}
			continue
		case v.Kind == yaml.ScalarNode:
			vals = []string{scalar(v)}
		case v.Kind == yaml.SequenceNode:
			r, err := parseFieldKey(ev.Source, k.Value)
			if err != nil {
				return nil, k, err.Error()
			}
			if !r.multiValued(ev.Source) {
				return nil, v, fmt.Sprintf("field '%s' is single-valued in Falco: give one value, not a list", k.Value)
			}
			vals = make([]string, 0, len(v.Content))
			for _, n := range v.Content {
				if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
					return nil, n, fmt.Sprintf("field '%s': list elements must be values", k.Value)
				}
				vals = append(vals, scalar(n))
			}
		default:
			return nil, v, fmt.Sprintf("field '%s': expected a value or a list of values", k.Value)
		}
		if err := ev.Set(k.Value, vals...); err != nil {
			at := k
			var ve *ValueError
			if errors.As(err, &ve) {
				// the value is wrong, not the key
				at = v
				if v.Kind == yaml.SequenceNode && ve.Index < len(v.Content) {
					at = v.Content[ve.Index]
				}
			}
			return nil, at, err.Error()
		}
	}
	return ev, nil, ""
}
