package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/rules"
)

// ShootRules stages the shoot's own rules ConfigMaps
// (rules.custom[].shootConfigMap). Nobody validated them before they were
// mounted, and one broken file would make Falco refuse all its rules at
// start; so each file is loaded on top of what Falco loads before it, and
// only the files that load are swapped into Tree. A broken file is left
// out and reported: Falco keeps the rest.
type ShootRules struct {
	// Dirs are the mounted ConfigMaps, in load order.
	Dirs []string
	// Before are the directories whose rules files Falco loads before
	// these (the pinned set, the custom rules), in order.
	Before []string
	// Tree is the directory Falco's rules_files names for them.
	Tree Tree
}

// Stage validates the files and swaps the ones that load into the tree.
// It returns the findings of the files left out.
func (sr ShootRules) Stage() (diag.Findings, error) {
	var base []*rules.Source
	for _, d := range sr.Before {
		srcs, err := rulesFiles(d, "")
		if err != nil {
			return nil, err
		}
		base = append(base, srcs...)
	}
	set := map[string][]byte{}
	var refused diag.Findings
	for i, d := range sr.Dirs {
		files, err := rulesFiles(d, filepath.Base(d)+"/")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			loaded := rules.Load(append(slices.Clone(base), &rules.Source{Name: f.Name, Data: f.Data}), rules.Options{})
			var errs diag.Findings
			for _, fd := range loaded.Findings {
				if fd.Severity == diag.Error && fd.File == f.Name {
					errs = append(errs, fd)
				}
			}
			if len(errs) > 0 {
				refused = append(refused, errs...)
				continue
			}
			base = append(base, f)
			set[artifacts.LoadOrderName(i, strings.ReplaceAll(f.Name, "/", "_"))] = f.Data
		}
	}
	if _, err := sr.Tree.Swap(set); err != nil {
		return nil, err
	}
	return refused, nil
}

// rulesFiles reads the .yaml and .yml files of a mounted directory (a
// missing one is empty: the ConfigMap is optional), sorted by name, named
// prefix+file.
func rulesFiles(dir, prefix string) ([]*rules.Source, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*rules.Source
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "..") || (!strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml")) {
			continue
		}
		data, err := readBounded(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		out = append(out, &rules.Source{Name: prefix + name, Data: data})
	}
	return out, nil
}
