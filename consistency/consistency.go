package consistency

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/rules"
)

// Code is the code of consistency findings.
const Code = "FALCOPS_CONSISTENCY"

// Standard are the rulesets shoots select in rules.standard.
var Standard = []string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules"}

// candidate is one version of a ruleset, loaded.
type candidate struct {
	dir     *rules.RulesetDir
	engine  rules.Version
	plugins []rules.PluginRequirement
}

// Check checks the profile against the rulesets (the repository's, found
// by rules.Discover on root, and those of $FALCOPS_RULESETS_PATH). A
// standard ruleset found nowhere is not checked: the repository does not
// ship it.
func Check(root string, prof *lifecycle.Profile) diag.Findings {
	dirs, _ := rules.Discover(root)
	for _, p := range filepath.SplitList(os.Getenv(rules.RulesetsPathEnv)) {
		more, _ := rules.Discover(p)
		dirs = append(dirs, more...)
	}
	byName := map[string][]candidate{}
	for _, d := range dirs {
		if !slices.Contains(Standard, d.Manifest.Name) {
			continue
		}
		rs, fs := rules.LoadRuleset(d, rules.Options{})
		if fs.Errors() > 0 {
			continue // reported by validate itself
		}
		engine := rs.RequiredEngine
		if d.Manifest.Requires.Engine != "" {
			engine, _ = rules.ParseVersion(d.Manifest.Requires.Engine)
		}
		byName[d.Manifest.Name] = append(byName[d.Manifest.Name], candidate{dir: d, engine: engine, plugins: rs.Plugins})
	}
	var out diag.Findings
	for _, v := range prof.Versions() {
		e, err := prof.EngineVersion(v.Version)
		if err != nil {
			continue // lifecycle reports it
		}
		engine, err := rules.ParseVersion(e)
		if err != nil {
			continue
		}
		for _, name := range Standard {
			cands := byName[name]
			if len(cands) == 0 {
				continue
			}
			if best := newest(cands, engine, v); best == nil {
				var found []string
				for _, c := range cands {
					found = append(found, fmt.Sprintf("%s needs engine %s", c.dir.Manifest.Version, c.engine))
				}
				out = append(out, diag.Finding{Code: Code, Severity: diag.Error, Position: v.Source,
					Message: fmt.Sprintf("Falco %s (engine %s%s) can load no version of %s here (%s): shoots selecting it would get no rules", v.Version, engine, plugins(v.Plugins), name, strings.Join(found, "; "))})
			}
		}
		out = append(out, tuning(dirs, byName, v, engine)...)
	}
	return out
}

// tuning loads each ruleset that depends on a standard ruleset on top of
// the versions Falco v would pin, at its engine.
func tuning(dirs []*rules.RulesetDir, byName map[string][]candidate, v lifecycle.Version, engine rules.Version) diag.Findings {
	var out diag.Findings
	for _, d := range dirs {
		var base []string
		ok := len(d.Manifest.DependsOn) > 0
		for _, dep := range d.Manifest.DependsOn {
			var line []candidate
			for _, c := range byName[dep.Name] {
				if sv, err := semver.StrictNewVersion(c.dir.Manifest.Version); err == nil && sv.Major() == dep.Major {
					line = append(line, c)
				}
			}
			best := newest(line, engine, v)
			if !slices.Contains(Standard, dep.Name) || best == nil {
				ok = false
				break
			}
			base = append(base, best.dir.Paths...)
		}
		if !ok || (d.Manifest.Requires.Engine != "" && engine.Less(mustVersion(d.Manifest.Requires.Engine))) {
			continue // not pinned for this Falco
		}
		var srcs []*rules.Source
		for _, p := range append(base, d.Paths...) {
			if src, err := rules.ReadSource(p); err == nil {
				srcs = append(srcs, src)
			}
		}
		own := map[string]bool{}
		for _, p := range d.Paths {
			own[p] = true
		}
		for _, f := range rules.Load(srcs, rules.Options{Engine: engine}).Findings {
			if f.Severity == diag.Error && own[f.File] {
				f.Message = fmt.Sprintf("on top of what Falco %s pins, at its engine %s: %s", v.Version, engine, f.Message)
				out = append(out, f)
			}
		}
	}
	return out
}

func mustVersion(s string) rules.Version {
	v, _ := rules.ParseVersion(s)
	return v
}

// newest is the highest version the engine and plugins can load.
func newest(cands []candidate, engine rules.Version, v lifecycle.Version) *candidate {
	var best *candidate
	for i := range cands {
		c := &cands[i]
		if engine.Less(c.engine) || !satisfied(c.plugins, v) {
			continue
		}
		if best == nil || semver.MustParse(best.dir.Manifest.Version).LessThan(semver.MustParse(c.dir.Manifest.Version)) {
			best = c
		}
	}
	return best
}

// satisfied reports whether Falco v bundles a plugin for every
// requirement (one of its alternatives); a version whose profile entry
// lists no plugins is not known to lack any.
func satisfied(reqs []rules.PluginRequirement, v lifecycle.Version) bool {
	if len(v.Plugins) == 0 {
		return true
	}
	for _, r := range reqs {
		if !slices.ContainsFunc(r.Alternatives, func(a rules.PluginVersion) bool { return v.Bundles(a.Name, a.Version) }) {
			return false
		}
	}
	return true
}

func plugins(ps []profilev1alpha1.PluginVersion) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Name+" "+p.Version)
	}
	if len(parts) == 0 {
		return ""
	}
	return ", plugins " + strings.Join(parts, ", ")
}
