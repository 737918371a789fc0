package customrules

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
)

// Gardener's limits (pkg/values/falcovalues.go of the extension).
const (
	// MaxFiles is the most files one ConfigMap may hold.
	MaxFiles = 10
	// MaxSize is the most bytes a gzipped file may inflate to.
	MaxSize = 1 << 20
)

// ErrInvalid means the custom rules are refused; the error text says why.
var ErrInvalid = errors.New("invalid custom rules")

// ConfigMap is one referenced ConfigMap as the seed holds it (Gardener
// copies it into the shoot namespace as ref-<name>).
type ConfigMap struct {
	Name       string
	Data       map[string]string
	BinaryData map[string][]byte
}

// File is one custom rules file, inflated, in load order.
type File struct {
	// ConfigMap is the name of the ConfigMap it comes from.
	ConfigMap string
	// Name is the file name without .gz.
	Name string
	Data []byte
}

// Path is how findings name the file: configmap/file.
func (f File) Path() string { return f.ConfigMap + "/" + f.Name }

// Read returns the files of the ConfigMaps in Gardener's load order (the
// ConfigMaps in the order listed; in each, files sorted by name with .gz
// stripped) or the first of Gardener's errors, wrapping ErrInvalid.
func Read(cms []ConfigMap) ([]File, error) {
	var out []File
	seen := map[string]bool{}
	for _, cm := range cms {
		if len(cm.Data)+len(cm.BinaryData) > MaxFiles {
			return nil, fmt.Errorf("%w: too many custom rule files in configmap %q", ErrInvalid, cm.Name)
		}
		var files []File
		for name, text := range cm.Data {
			if !strings.HasSuffix(name, ".yaml") {
				return nil, fmt.Errorf("%w: rule file %s is not a yaml file", ErrInvalid, name)
			}
			files = append(files, File{ConfigMap: cm.Name, Name: name, Data: []byte(text)})
		}
		for name, gz := range cm.BinaryData {
			if !strings.HasSuffix(name, ".yaml.gz") {
				return nil, fmt.Errorf("%w: rule file %s of configmap %s is not a gzipped yaml file", ErrInvalid, name, cm.Name)
			}
			data, err := inflate(gz)
			if err != nil {
				return nil, fmt.Errorf("%w: rule file %s of configmap %s: %w", ErrInvalid, name, cm.Name, err)
			}
			files = append(files, File{ConfigMap: cm.Name, Name: strings.TrimSuffix(name, ".gz"), Data: data})
		}
		slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
		for _, f := range files {
			if seen[f.Name] {
				return nil, fmt.Errorf("%w: duplicate rule file %s", ErrInvalid, f.Name)
			}
			seen[f.Name] = true
			var doc any
			if err := yaml.Unmarshal(f.Data, &doc); err != nil {
				return nil, fmt.Errorf("%w: rule file %s of configmap %s is not valid yaml: %w", ErrInvalid, f.Name, cm.Name, err)
			}
		}
		out = append(out, files...)
	}
	return out, nil
}

// inflate reads a gzip file whose trailer says it inflates to at most
// MaxSize bytes, and checks that it does exactly that (the bomb guard).
func inflate(gz []byte) ([]byte, error) {
	if len(gz) < 4 {
		return nil, errors.New("not a gzip file")
	}
	isize := binary.LittleEndian.Uint32(gz[len(gz)-4:])
	if isize > MaxSize {
		return nil, fmt.Errorf("uncompressed size is larger than 1 MiB: %d bytes", isize)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(isize)))
	if err != nil {
		return nil, err
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 || len(data) != int(isize) {
		return nil, errors.New("isize in gzip trailer did not match the actual uncompressed size")
	}
	return data, nil
}

// Validate loads the base files (the pinned rulesets, in load order) and
// the custom files after them, as Falco does, and returns the error
// findings in the custom files (configmap/file:line:col). Findings in the
// base files are not the shoot owner's to fix and are left out.
func Validate(base []*rules.Source, files []File, engine rules.Version) diag.Findings {
	srcs := make([]*rules.Source, 0, len(base)+len(files))
	for _, b := range base { // fresh Sources: Load caches line offsets in them
		srcs = append(srcs, &rules.Source{Name: b.Name, Data: b.Data})
	}
	ours := map[string]bool{}
	for _, f := range files {
		srcs = append(srcs, &rules.Source{Name: f.Path(), Data: f.Data})
		ours[f.Path()] = true
	}
	var out diag.Findings
	for _, f := range rules.Load(srcs, rules.Options{Engine: engine}).Findings {
		if f.Severity == diag.Error && ours[f.File] {
			out = append(out, f)
		}
	}
	out.Sort()
	return out
}

// Base is the files of the rulesets in load order (each ruleset's files
// sorted by name, named ruleset/file): what custom rules are validated on
// top of.
func Base(order []string, files map[string]map[string][]byte) []*rules.Source {
	out := []*rules.Source{}
	for _, set := range order {
		names := make([]string, 0, len(files[set]))
		for n := range files[set] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			out = append(out, &rules.Source{Name: set + "/" + n, Data: files[set][n]})
		}
	}
	return out
}
