package lifecycle

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

// FuzzLoadProfile feeds arbitrary bytes to Load: it must not panic, every
// problem must have a file and a line ≥ 1, and the decision functions must
// not panic on whatever loads.
func FuzzLoadProfile(f *testing.F) {
	gardener, _ := sharedtest.PathIfPresent(f, gardenerExample)
	for _, seed := range []string{"../profiles/falco.yaml", gardener} {
		if data, err := os.ReadFile(seed); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(profileYAML("0.41.3 deprecated 2027-02-28T23:59:59Z", "0.42.1 supported", "0.44.1 preview")))
	f.Add([]byte(profileYAML("0.41.3 deprecated 2027-02-28T23:59:59")))
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("apiVersion: [\n"))
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "p.yaml")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		p, err := LoadFile(path)
		if err != nil {
			var le *LoadError
			require.ErrorAs(t, err, &le)
			require.NotEmpty(t, le.Problems, "LoadError without problems")
			for _, pr := range le.Problems {
				assert.True(t, pr.Line >= 1 && pr.File != "", "problem without position: %q", pr.String())
			}
			return
		}
		_, _ = DefaultVersion(p, at)
		for _, fi := range Validate(p, at) {
			assert.False(t, fi.Line < 1 && len(p.Versions()) > 0, "finding without line: %v", fi)
		}
		for _, v := range p.Versions() {
			for _, auto := range []bool{false, true} {
				d, err := Resolve(p, v.Version, auto, at)
				assert.False(t, err == nil && d.Downgrade && d.Reason == ReasonAutoUpdate, "auto-update downgrade: %+v", d)
			}
		}
	})
}
