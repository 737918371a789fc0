package gate

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/gitrepo"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/diff"
)

// Status of one ruleset in the gate.
type Status string

// Statuses.
const (
	StatusPass      Status = "pass"
	StatusFail      Status = "fail"
	StatusNew       Status = "new"
	StatusDeleted   Status = "deleted"
	StatusRenamed   Status = "renamed"
	StatusUnchanged Status = "unchanged"
)

// Verdict is the gate's answer for one ruleset.
type Verdict struct {
	Ruleset    string
	Status     Status
	OldVersion string
	NewVersion string
	// Declared is the bump from the old to the new version; Required the
	// bump the changes need.
	Declared diff.Bump
	Required diff.Bump
	// Reason says why the verdict is what it is, in one sentence.
	Reason   string
	Report   *diff.Report
	Findings diag.Findings
}

// Failed reports whether this verdict fails the gate.
func (v Verdict) Failed() bool { return v.Status == StatusFail }

// Result is the gate's answer for a repository.
type Result struct {
	Base     string // the base revision as given
	Commit   string // its commit hash
	Verdicts []Verdict
}

// Passed reports whether no verdict failed.
func (r *Result) Passed() bool {
	for _, v := range r.Verdicts {
		if v.Failed() {
			return false
		}
	}
	return true
}

// Run compares the rulesets of the repository at repoDir (its rulesets/
// folder) in the working tree with those at the base revision.
func Run(repoDir, base string) (*Result, error) {
	b, err := gitrepo.OpenBase(repoDir, base)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "falcops-gate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // best effort cleanup of a temp dir
	if err := b.Extract(path.Join(b.Dir, "rulesets"), filepath.Join(tmp, "rulesets")); err != nil {
		return nil, fmt.Errorf("reading rulesets/ at %s: %w", base, err)
	}
	oldSets, err := rulesetsIn(tmp)
	if err != nil {
		return nil, err
	}
	newSets, err := rulesetsIn(repoDir)
	if err != nil {
		return nil, err
	}
	res := &Result{Base: base, Commit: b.Commit}
	renamedFrom := map[string]string{}
	for name, nd := range newSets {
		if _, ok := oldSets[name]; ok {
			continue
		}
		for oldName, od := range oldSets {
			if _, still := newSets[oldName]; !still && sameRules(od, nd) {
				renamedFrom[name] = oldName
			}
		}
	}
	renamed := map[string]bool{}
	for name, nd := range newSets {
		od, ok := oldSets[name]
		switch {
		case ok:
			v := compare(od, nd)
			v.Ruleset = name // "name major" for a ruleset in folders per major line
			res.Verdicts = append(res.Verdicts, v)
		case renamedFrom[name] != "":
			renamed[renamedFrom[name]] = true
			res.Verdicts = append(res.Verdicts, Verdict{Ruleset: name, Status: StatusRenamed, NewVersion: nd.Manifest.Version,
				OldVersion: oldSets[renamedFrom[name]].Manifest.Version,
				Reason:     fmt.Sprintf("renamed from %q with the same rules; it is a new OCI repository and index entry, and shoots following %q must switch", renamedFrom[name], renamedFrom[name])})
		default:
			v := Verdict{Ruleset: name, Status: StatusNew, NewVersion: nd.Manifest.Version, Reason: "new ruleset"}
			if _, fs := rules.LoadRuleset(nd, rules.Options{}); fs.Errors() > 0 {
				v.Status, v.Findings, v.Reason = StatusFail, fs, "the new ruleset does not validate"
			}
			res.Verdicts = append(res.Verdicts, v)
		}
	}
	for name, od := range oldSets {
		if _, ok := newSets[name]; ok || renamed[name] {
			continue
		}
		res.Verdicts = append(res.Verdicts, Verdict{Ruleset: name, Status: StatusDeleted, OldVersion: od.Manifest.Version,
			Reason: "deleted: published versions stay in the registry, but no new version will follow"})
	}
	sort.Slice(res.Verdicts, func(i, j int) bool { return res.Verdicts[i].Ruleset < res.Verdicts[j].Ruleset })
	return res, nil
}

// rulesetsIn finds the rulesets of a repository root, keyed by manifest
// name, or by name and major ("falco-rules 5") for a ruleset kept in one
// folder per major line.
func rulesetsIn(root string) (map[string]*rules.RulesetDir, error) {
	out := map[string]*rules.RulesetDir{}
	if _, err := os.Stat(filepath.Join(root, "rulesets")); err != nil {
		return out, nil
	}
	dirs, fs := rules.Discover(root)
	if fs.Errors() > 0 && len(dirs) == 0 {
		if len(fs) == 1 && fs[0].Code == rules.ErrManifest && len(dirs) == 0 {
			return out, nil // no ruleset at all
		}
		return nil, fmt.Errorf("%s", fs[0].String())
	}
	byName := map[string][]*rules.RulesetDir{}
	for _, d := range dirs {
		byName[d.Manifest.Name] = append(byName[d.Manifest.Name], d)
	}
	for name, ds := range byName {
		if len(ds) == 1 {
			out[name] = ds[0]
			continue
		}
		for _, d := range ds {
			key := name + " " + major(d.Manifest.Version)
			if prev, dup := out[key]; dup {
				return nil, fmt.Errorf("ruleset %s is in both %s and %s: keep one folder per major line", key, prev.Dir, d.Dir)
			}
			out[key] = d
		}
	}
	return out, nil
}

func major(version string) string {
	m, _, _ := strings.Cut(version, ".")
	return m
}

// readAll reads a ruleset's rules files in load order.
func readAll(d *rules.RulesetDir) [][]byte {
	var out [][]byte
	for _, p := range d.Paths {
		b, _ := os.ReadFile(p)
		out = append(out, b)
	}
	return out
}

func sameRules(a, b *rules.RulesetDir) bool {
	x, y := readAll(a), readAll(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !bytes.Equal(x[i], y[i]) {
			return false
		}
	}
	return true
}

// compare decides the verdict of a ruleset present on both sides.
func compare(od, nd *rules.RulesetDir) Verdict {
	v := Verdict{Ruleset: nd.Manifest.Name, OldVersion: od.Manifest.Version, NewVersion: nd.Manifest.Version}
	oldRS, _ := rules.LoadRuleset(od, rules.Options{})
	newRS, fs := rules.LoadRuleset(nd, rules.Options{})
	if fs.Errors() > 0 {
		v.Status, v.Findings, v.Reason = StatusFail, fs, "the ruleset does not validate; fix the findings first"
		return v
	}
	report := ownChanges(diff.Compare(oldRS, newRS), od, nd)
	v.Report = &report
	v.Required = report.RequiredBump
	contentChanged := !sameRules(od, nd) || len(od.Paths) != len(nd.Paths)
	if contentChanged && v.Required < diff.Patch {
		// Different bytes make a different artifact; the version is immutable.
		v.Required = diff.Patch
	}
	declared, err := declaredBump(od.Manifest.Version, nd.Manifest.Version)
	if err != nil {
		v.Status, v.Reason = StatusFail, err.Error()
		return v
	}
	v.Declared = declared
	switch {
	case !contentChanged && v.Required == diff.None:
		v.Status, v.Reason = StatusUnchanged, "rules unchanged"
	case declared < v.Required:
		v.Status = StatusFail
		if declared == diff.None {
			v.Reason = fmt.Sprintf("the rules changed but the version is still %s; the changes need a %s bump", od.Manifest.Version, v.Required)
		} else {
			v.Reason = fmt.Sprintf("%s -> %s is a %s bump, but the changes need a %s bump", od.Manifest.Version, nd.Manifest.Version, declared, v.Required)
		}
	default:
		v.Status = StatusPass
		v.Reason = fmt.Sprintf("%s -> %s is a %s bump; the changes need %s", od.Manifest.Version, nd.Manifest.Version, declared, v.Required)
	}
	return v
}

// ownChanges keeps the changes in the ruleset's own files: a dependency
// (dependsOn) is versioned and gated on its own.
func ownChanges(r diff.Report, od, nd *rules.RulesetDir) diff.Report {
	own := map[string]bool{}
	for _, p := range append(append([]string(nil), od.Paths...), nd.Paths...) {
		own[p] = true
	}
	out := diff.Report{Changes: []diff.Change{}}
	for _, c := range r.Changes {
		if c.File != "" && !own[c.File] {
			continue
		}
		out.Changes = append(out.Changes, c)
		if c.Bump > out.RequiredBump {
			out.RequiredBump = c.Bump
		}
	}
	return out
}

// declaredBump is the bump between two versions; a lower new version is an error.
func declaredBump(oldV, newV string) (diff.Bump, error) {
	o, err := semver.StrictNewVersion(oldV)
	if err != nil {
		return diff.None, fmt.Errorf("base version %q is not semver: %w", oldV, err)
	}
	n, err := semver.StrictNewVersion(newV)
	if err != nil {
		return diff.None, fmt.Errorf("version %q is not semver: %w", newV, err)
	}
	switch {
	case n.LessThan(o):
		return diff.None, fmt.Errorf("version went down from %s to %s", oldV, newV)
	case n.Major() > o.Major():
		return diff.Major, nil
	case n.Minor() > o.Minor():
		return diff.Minor, nil
	case n.Patch() > o.Patch():
		return diff.Patch, nil
	case n.Equal(o):
		return diff.None, nil
	}
	return diff.Patch, nil // only the pre-release part moved
}
