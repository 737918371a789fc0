package diff

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/Masterminds/semver/v3"

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
	dir := sharedDir(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]release{}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		m := releaseRe.FindStringSubmatch(e.Name())
		if m == nil {
			t.Fatalf("unexpected folder %s", e.Name())
		}
		v, err := semver.StrictNewVersion(m[2])
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if v.Prerelease() != "" {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.yaml"))
		if err != nil || len(files) != 1 {
			t.Fatalf("%s: want one rules file, got %v (%v)", e.Name(), files, err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	src.Name = filepath.Base(filepath.Dir(r.path)) + "/" + filepath.Base(r.path)
	rs := rules.Load([]*rules.Source{src}, rules.Options{})
	if n := rs.Findings.Errors(); n > 0 {
		t.Fatalf("%s: %d load errors, first: %s", r.path, n, rs.Findings[0])
	}
	return rs
}

func TestDebugUpstream(t *testing.T) {
	if os.Getenv("DIFF_DEBUG") == "" {
		t.Skip()
	}
	for _, name := range []string{"falco-rules", "falco-incubating-rules", "falco-sandbox-rules"} {
		rels := finalReleases(t)[name]
		for i := 1; i < len(rels); i++ {
			o, n := loadRelease(t, rels[i-1]), loadRelease(t, rels[i])
			rep := Compare(o, n)
			fmt.Printf("=== %s %s -> %s: %s\n", name, rels[i-1].version, rels[i].version, rep.RequiredBump)
			for _, c := range rep.Changes {
				if c.Bump >= Minor || os.Getenv("DIFF_DEBUG") == "all" {
					fmt.Printf("  %s %s %q %s: %s\n", c.Bump, c.Kind, c.Name, c.Change, c.Reason)
				}
			}
		}
	}
}
