package falcops_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/diag"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/lifecycle"
	frules "github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/rules/ruletest"
)

// tuningFolders are the repository's tuning rulesets.
var tuningFolders = []string{"gardener-tuning-4", "gardener-tuning-5", "gardener-tuning-incubating-5", "gardener-tuning-incubating-6"}

// upstreamReleases are the final releases of name in ../shared/upstream-rules
// of major, each as its rules file's path.
func upstreamReleases(t *testing.T, name string, major uint64) []string {
	t.Helper()
	dir := sharedtest.UpstreamRules(t)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `-(\d+\.\d+\.\d+)$`)
	var out []string
	for _, e := range entries {
		m := re.FindStringSubmatch(e.Name())
		if m == nil || semver.MustParse(m[1]).Major() != major {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.yaml"))
		require.NoError(t, err)
		require.Len(t, files, 1, e.Name())
		out = append(out, files[0])
	}
	require.NotEmpty(t, out, "no %s %d release in %s", name, major, dir)
	return out
}

// combinations are the upstream file sets a tuning ruleset claims: every
// release of each of its dependencies' majors, crossed, in dependsOn
// order; the incubating tuning also loads after the sandbox release of
// the incubating major (sandbox redefines calico_node).
func combinations(t *testing.T, rd *frules.RulesetDir) [][]string {
	t.Helper()
	sets := [][]string{nil}
	for _, d := range rd.Manifest.DependsOn {
		var next [][]string
		for _, s := range sets {
			for _, f := range upstreamReleases(t, d.Name, d.Major) {
				next = append(next, append(slices.Clone(s), f))
			}
		}
		sets = next
	}
	if strings.Contains(rd.Manifest.Name, "incubating") {
		major := rd.Manifest.DependsOn[len(rd.Manifest.DependsOn)-1].Major
		for i, s := range sets {
			sets[i] = append(s, upstreamReleases(t, "falco-sandbox-rules", major)[0])
		}
	}
	return sets
}

// TestTuningLoadsOnEveryUpstreamRelease loads each tuning ruleset on top
// of every upstream release it claims, at the engine of every Falco
// version of the profile that can load it: no file may have an error.
func TestTuningLoadsOnEveryUpstreamRelease(t *testing.T) {
	root := sharedtest.RepoRoot(t)
	prof, err := lifecycle.Load(filepath.Join(root, "profiles"))
	require.NoError(t, err)
	loads := 0
	for _, folder := range tuningFolders {
		rd, fs := frules.ReadManifest(filepath.Join(root, "rulesets", folder))
		require.Zero(t, fs.Errors(), "%v", fs)
		needs, err := frules.ParseVersion(rd.Manifest.Requires.Engine)
		require.NoError(t, err)
		for _, upstream := range combinations(t, rd) {
			for _, v := range prof.Versions() {
				engine, err := frules.ParseVersion(v.EngineVersion)
				require.NoError(t, err)
				if engine.Less(needs) {
					continue // this Falco is never pinned to the tuning
				}
				var srcs []*frules.Source
				for _, p := range append(slices.Clone(upstream), rd.Paths...) {
					src, err := frules.ReadSource(p)
					require.NoError(t, err)
					srcs = append(srcs, src)
				}
				rs := frules.Load(srcs, frules.Options{Engine: engine})
				var errs diag.Findings
				for _, f := range rs.Findings {
					if f.Severity == diag.Error {
						errs = append(errs, f)
					}
				}
				assert.Empty(t, errs, "%s on %v at Falco %s (engine %s)", folder, names(upstream), v.Version, engine)
				loads++
			}
		}
	}
	t.Logf("%d loads of a tuning ruleset on an upstream release, zero errors", loads)
}

func names(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(filepath.Dir(p))
	}
	return out
}

// TestTuningChangesVerdicts runs each tuning ruleset's rule tests twice:
// with the tuning they all pass; on the upstream rules alone every case
// that expects a rule not to fire sees it fire. So each tuned item changes
// the verdict for its event, and its neighbour fires either way.
func TestTuningChangesVerdicts(t *testing.T) {
	sharedtest.UpstreamRulesets(t)
	root := sharedtest.RepoRoot(t)
	for _, folder := range tuningFolders {
		rd, fs := frules.ReadManifest(filepath.Join(root, "rulesets", folder))
		require.Zero(t, fs.Errors(), "%v", fs)
		cases, fs := ruletest.Load(filepath.Join(rd.Dir, "tests"))
		require.Zero(t, fs.Errors(), "%v", fs)
		require.NotEmpty(t, cases, folder)
		var upstream []*frules.Source
		for _, d := range rd.Manifest.DependsOn {
			dep, err := frules.FindDependency(rd, d)
			require.NoError(t, err)
			for _, p := range dep.Paths {
				src, err := frules.ReadSource(p)
				require.NoError(t, err)
				upstream = append(upstream, src)
			}
		}
		withTuning := ruletest.Run(loadWith(t, upstream, rd.Paths), cases)
		without := ruletest.Run(frules.Load(upstream, frules.Options{}), cases)
		tuned := 0
		for i, r := range withTuning.Results {
			assert.True(t, r.Passed(), "%s: %s with the tuning: %v", folder, r.Case.Name, r.Failed())
			for _, c := range without.Results[i].Checks {
				require.NoError(t, c.Err, "%s: %s", folder, r.Case.Name)
				assert.True(t, c.Actual, "%s: %s: upstream alone, rule %q must fire (else the tuning changes nothing)", folder, r.Case.Name, c.Rule)
				if !c.Expected {
					tuned++
				}
			}
		}
		assert.Positive(t, tuned, folder)
		t.Logf("%s: %d tuned events fire without it and not with it; %d cases", folder, tuned, len(cases))
	}
}

func loadWith(t *testing.T, upstream []*frules.Source, own []string) *frules.Ruleset {
	t.Helper()
	srcs := slices.Clone(upstream)
	for _, p := range own {
		src, err := frules.ReadSource(p)
		require.NoError(t, err)
		srcs = append(srcs, src)
	}
	rs := frules.Load(srcs, frules.Options{})
	for _, f := range rs.Findings {
		require.NotEqual(t, diag.Error, f.Severity, "%s", f)
	}
	return rs
}
