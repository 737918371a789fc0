package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/rules"
)

// release is one upstream release folder.
type release struct {
	ruleset string // falco-rules, falco-incubating-rules, falco-sandbox-rules
	version *semver.Version
	path    string
}

var releaseRe = regexp.MustCompile(`^(falco(?:-[a-z]+)?-rules)-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)$`)

// finalReleases returns the final (not pre-release) upstream releases of
// each ruleset, sorted by semver.
func finalReleases(t testing.TB) map[string][]release {
	t.Helper()
	dir := sharedtest.UpstreamRules(t)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string][]release{}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		m := releaseRe.FindStringSubmatch(e.Name())
		require.NotNil(t, m, "unexpected folder %s", e.Name())
		v, err := semver.StrictNewVersion(m[2])
		require.NoError(t, err, e.Name())
		if v.Prerelease() != "" {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.yaml"))
		require.NoError(t, err)
		require.Len(t, files, 1, "%s: rules files", e.Name())
		out[m[1]] = append(out[m[1]], release{ruleset: m[1], version: v, path: files[0]})
	}
	for _, rs := range out {
		sort.Slice(rs, func(i, j int) bool { return rs[i].version.LessThan(rs[j].version) })
	}
	return out
}

func loadRelease(t testing.TB, r release) *rules.Ruleset {
	t.Helper()
	src, err := rules.ReadSource(r.path)
	require.NoError(t, err)
	src.Name = filepath.Base(filepath.Dir(r.path)) + "/" + filepath.Base(r.path)
	rs := rules.Load([]*rules.Source{src}, rules.Options{})
	require.Zero(t, rs.Findings.Errors(), "%s: load errors: %v", r.path, rs.Findings)
	return rs
}

// upstreamUnderBumps lists every consecutive pair of final upstream
// releases for which upstream released a smaller bump than falcops
// requires, with the reason. TestDiffUpstreamReleases asserts that this is
// exactly the set of such pairs, so it can neither grow nor go stale
// silently.
var upstreamUnderBumps = map[string]string{
	"falco-rules 1.0.0 -> 1.0.1": "patch, falcops: major. \"Drop and execute new binary in container\" moved from line 505 " +
		"to the end of the file (3402), past 25 enabled rules on the same execve events. Falco stops at the first " +
		"matching rule (the only behaviour before Falco 0.36, the default rule_matching: first since, " +
		"falcosecurity/falco#1542, #2705), so the move changes which alert fires for an exec both match.",
	"falco-rules 3.0.1 -> 3.1.0": "minor, falcops: major. Macro proc_name_exists changed from proc.name != \"<NA>\" to " +
		"not proc.name in (\"<NA>\", \"N/A\"): N/A is newly excluded, while an event whose proc.name cannot be " +
		"extracted fails != but passes not in, so narrower or wider cannot be decided (3 rules inherit it); macro " +
		"k8s_containers lost an image (a macro that matches less is major).",
	"falco-rules 3.1.0 -> 3.2.0": "minor, falcops: major. Macro dup gained evt.dir=< (it and \"Redirect STDOUT/STDIN to " +
		"Network Connection in Container\" match fewer events: enter events no longer fire) and macro sensitive_files " +
		"dropped its fd.name startswith /etc conjunct (wider; any change of a macro is major).",
	"falco-rules 5.0.0 -> 5.1.0": "minor, falcops: major. Allow-lists grew under negations: rkhunter in " +
		"read_sensitive_file_binaries (\"Read sensitive file untrusted\"), nine images in k8s_containers (\"Contact " +
		"K8S API Server From Container\"), and the new postgres_running_cnpg exclusion in \"Run shell untrusted\". " +
		"Upstream releases allow-list tuning as list-item changes; falcops judges the rules, which match fewer events.",
	"falco-incubating-rules 5.0.0 -> 5.0.1": "patch, falcops: major. Macro container_started no longer matches the " +
		"container event type (spawned_process and proc.vpid=1 and container only), so \"Launch Privileged Container\" " +
		"and \"Launch Excessively Capable Container\" stop firing on container events. Upstream released it as a fix.",
	"falco-sandbox-rules 4.0.1 -> 4.1.0": "minor, falcops: major. List safe_etc_dirs had a missing comma " +
		"(\"/etc/fluent/configs.d. /etc/alertmanager\" was one item); the fix adds two items and removes one under the " +
		"negation in \"Write below etc\", so the rule is formally both narrower and wider: undecidable.",
	"falco-sandbox-rules 5.0.0 -> 5.0.1": "patch, falcops: major. The same container_started change as incubating 5.0.1: " +
		"\"Launch Disallowed Container\" and \"Launch Sensitive Mount Container\" no longer match the container event type.",
	"falco-sandbox-rules 6.0.0 -> 6.1.0": "minor, falcops: major. \"Sudo Potential Privilege Escalation\" and \"Polkit Local " +
		"Privilege Escalation Vulnerability (CVE-2021-4034)\" test user.loginuid != 0 instead of user.uid != 0: a " +
		"different field, so narrower or wider cannot be decided (a root login that sudoes no longer fires; a non-root " +
		"login acting as uid 0 now does).",
}

// declaredBump is the bump from one release to the next.
func declaredBump(o, n *semver.Version) Bump {
	switch {
	case n.Major() > o.Major():
		return Major
	case n.Minor() > o.Minor():
		return Minor
	case n.Patch() > o.Patch():
		return Patch
	}
	return None
}

// TestDiffUpstreamReleases diffs every consecutive pair of final upstream
// releases of each ruleset, each loaded for the engine it declares, and
// checks that the required bump never exceeds what upstream released,
// except for the pairs explained in upstreamUnderBumps.
func TestDiffUpstreamReleases(t *testing.T) {
	all := finalReleases(t)
	got := map[string]bool{}
	pairs := 0
	for _, name := range []string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules"} {
		rels := all[name]
		require.GreaterOrEqual(t, len(rels), 2, "%s: final releases", name)
		for i := 1; i < len(rels); i++ {
			o, n := rels[i-1], rels[i]
			key := fmt.Sprintf("%s %s -> %s", name, o.version, n.version)
			pairs++
			oldRS, newRS := loadRelease(t, o), loadRelease(t, n)
			rep := Compare(oldRS, newRS)
			assert.Equal(t, rep, Compare(oldRS, newRS), "%s: two diffs of the same rulesets differ", key)
			for _, c := range rep.Changes {
				assert.True(t, c.Line > 0 && c.File != "" && c.Reason != "" && c.Change != "", "%s: incomplete change %+v", key, c)
			}
			declared := declaredBump(o.version, n.version)
			if os.Getenv("DIFF_DEBUG") != "" {
				t.Logf("%s: upstream %s, falcops %s", key, declared, rep.RequiredBump)
			}
			if rep.RequiredBump <= declared {
				continue
			}
			got[key] = true
			if _, ok := upstreamUnderBumps[key]; !ok {
				var b strings.Builder
				for _, c := range rep.Changes {
					if c.Bump > declared {
						fmt.Fprintf(&b, "  %s %s %q %s: %s\n", c.Bump, c.Kind, c.Name, c.Change, c.Reason)
					}
				}
				assert.Fail(t, "under-bump not explained", "%s: upstream released a %s bump, falcops requires %s; explain it in upstreamUnderBumps or fix the diff:\n%s",
					key, declared, rep.RequiredBump, b.String())
			}
		}
	}
	for key := range upstreamUnderBumps {
		assert.True(t, got[key], "upstreamUnderBumps explains %q, but upstream's bump is enough there now; remove the entry", key)
	}
	t.Logf("%d consecutive final release pairs, %d where upstream under-bumped", pairs, len(got))
}
