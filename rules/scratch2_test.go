package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/falcops/falcops/rules/condition"
	"github.com/falcops/falcops/rules/fields"
)

func TestScratchValues(t *testing.T) {
	dir := sharedDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.yaml"))
	seen := map[string]bool{}
	for _, f := range files {
		src, _ := ReadSource(f)
		rs := Load([]*Source{src}, Options{Engine: Engine044})
		for _, r := range rs.Rules {
			e := rs.Expand(r)
			condition.Walk(e, func(n condition.Expr) bool {
				b, ok := n.(*condition.BinaryCheck)
				if !ok {
					return true
				}
				var vals []string
				switch v := b.Right.(type) {
				case *condition.Value:
					vals = []string{v.Value}
				case *condition.List:
					vals = v.Values
				}
				for _, v := range vals {
					fe, n, err := condition.ParseField(v)
					if err != nil || n != len(v) {
						continue
					}
					if fld, ok := fe.(*condition.Field); ok {
						if _, _, ok := fields.Lookup(r.Source, fld.Name); ok && !seen[v] {
							seen[v] = true
							t.Logf("%s: %q in rule %q: %s", filepath.Base(filepath.Dir(f)), v, r.Name, condition.String(b)[:min(100, len(condition.String(b)))])
						}
					}
				}
				return true
			})
		}
	}
	_ = os.Stdout
}
