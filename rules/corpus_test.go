package rules

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestScratchCorpus(t *testing.T) {
	dir := sharedDir(t)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.yaml"))
		sort.Strings(files)
		for _, f := range files {
			src, err := ReadSource(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, eng := range []Version{{}, Engine044, EngineNext} {
				rs := Load([]*Source{src}, Options{Engine: eng})
				counts := map[string]int{}
				for _, fd := range rs.Findings {
					counts[string(fd.Severity)+" "+fd.Code]++
					if fd.Severity == SeverityError || os.Getenv("V") != "" {
						t.Logf("%s %s %s", e.Name(), eng, fd)
					}
				}
				var ks []string
				for k, v := range counts {
					ks = append(ks, k+"="+itoa(v))
				}
				sort.Strings(ks)
				t.Logf("%s engine=%s(%s) %s", e.Name(), eng, rs.Engine, strings.Join(ks, " "))
			}
		}
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0)) + fmtInt(i) }
func fmtInt(i int) string {
	s := ""
	if i == 0 {
		return "0"
	}
	for i > 0 {
		s = string(rune('0'+i%10)) + s
		i /= 10
	}
	return s
}
