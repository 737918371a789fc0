package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize bounds how much of one rules file is read.
const MaxFileSize = 32 << 20

// Options control loading.
type Options struct {
	// Engine is the Falco engine version to validate for. Zero means the
	// highest version the files require, or LatestEngine if none does.
	Engine Version
	// Now is the time owned exceptions expire against (LoadRuleset); zero:
	// expiry is not checked.
	Now time.Time
}

// ReadSource reads a rules file, refusing files larger than MaxFileSize.
func ReadSource(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only file: a close error cannot lose data
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFileSize)
	}
	return &Source{Name: path, Data: data}, nil
}

// LoadBytes loads one rules file held in memory.
func LoadBytes(name string, data []byte, opts Options) *Ruleset {
	return Load([]*Source{{Name: name, Data: data}}, opts)
}

// Load reads the files in order into one collector, as Falco does when given
// several rules files, then compiles and checks the result.
func Load(srcs []*Source, opts Options) *Ruleset {
	rs := &Ruleset{Sources: srcs, lists: map[string]*List{}, macros: map[string]*Macro{}, rules: map[string]*Rule{}}
	docs := make([][]*yaml.Node, len(srcs))
	for i, src := range srcs {
		docs[i] = decodeAll(rs, src)
	}
	engine := opts.Engine
	if engine.IsZero() {
		engine = requiredEngine(docs)
	}
	if engine.IsZero() {
		engine = LatestEngine
	}
	rs.Engine = engine
	l := &loader{rs: rs, engine: engine}
	for i, src := range srcs {
		l.src = src
		for _, d := range docs[i] {
			l.readDocument(d)
		}
	}
	for _, m := range rs.Macros {
		m.Condition.flush()
	}
	for _, r := range rs.Rules {
		r.Condition.flush()
		r.Output.flush()
	}
	l.compile()
	rs.Findings.Sort()
	return rs
}

// decodeAll decodes every YAML document of a file; a syntax error ends the
// file, as in Falco, and is recorded.
func decodeAll(rs *Ruleset, src *Source) []*yaml.Node {
	var out []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			rs.Findings = append(rs.Findings, yamlError(src, err))
			return out
		}
		out = append(out, doc)
	}
}

// requiredEngine finds the highest required_engine_version without
// validating anything, so the engine is known before the items are read.
func requiredEngine(docs [][]*yaml.Node) Version {
	var max Version
	for _, file := range docs {
		for _, doc := range file {
			root := doc
			if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
				root = root.Content[0]
			}
			root = deref(root)
			if root == nil || root.Kind != yaml.SequenceNode {
				continue
			}
			for _, item := range root.Content {
				v := get(deref(item), "required_engine_version")
				if v == nil || v.Kind != yaml.ScalarNode {
					continue
				}
				var ver Version
				if isUint32(v.Value) {
					n, _ := strconv.ParseUint(strings.TrimPrefix(v.Value, "+"), 10, 32)
					ver = Version{0, n, 0}
				} else if p, err := ParseVersion(v.Value); err == nil {
					ver = p
				}
				if max.Less(ver) {
					max = ver
				}
			}
		}
	}
	return max
}
