package publish

import (
	"errors"
	"fmt"
	"os"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/gitrepo"
	"github.com/falcops/falcops/rules"
)

// ErrInvalid wraps every error about the input (rulesets that do not
// validate, invalid profiles or index file, a version published with other
// content): the CLI's exit code 1.
var ErrInvalid = errors.New("invalid input")

// Built is a validated and packaged ruleset.
type Built struct {
	Dir      *rules.RulesetDir
	Artifact *artifacts.Artifact
}

// Build validates every ruleset the paths name and packages them, with the
// Git origin and commit of each as annotations. Any validation error stops
// everything before anything is packaged: the findings say why and the
// error wraps ErrInvalid. A path that does not exist, or names a loose rules
// file (packaging needs a manifest), is an error without findings.
func Build(paths []string) ([]Built, diag.Findings, error) {
	var dirs []*rules.RulesetDir
	var findings diag.Findings
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, nil, err
		}
		ds, fs := rules.Discover(p)
		findings = append(findings, fs...)
		for _, d := range ds {
			if d.ManifestPath == "" {
				return nil, nil, fmt.Errorf("%s: packaging needs a ruleset folder with %s (name, version, files)", p, rules.ManifestFile)
			}
		}
		dirs = append(dirs, ds...)
	}
	loaded := make([]*rules.Ruleset, len(dirs))
	for i, d := range dirs {
		rs, fs := rules.LoadRuleset(d, rules.Options{})
		findings = append(findings, fs...)
		loaded[i] = rs
	}
	if findings.Errors() > 0 {
		errs := fmt.Sprintf("%d errors", findings.Errors())
		if findings.Errors() == 1 {
			errs = "1 error"
		}
		return nil, findings, fmt.Errorf("%w: validation failed: %s; nothing was packaged", ErrInvalid, errs)
	}
	out := make([]Built, 0, len(dirs))
	for i, d := range dirs {
		source, revision, err := gitrepo.Origin(d.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("reading Git metadata of %s: %w", d.Dir, err)
		}
		a, err := artifacts.Package(d, loaded[i], artifacts.PackageOptions{Source: source, Revision: revision})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		out = append(out, Built{Dir: d, Artifact: a})
	}
	return out, findings, nil
}
