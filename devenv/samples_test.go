package devenv

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rollout"
	"github.com/falcops/falcops/shoot"
)

// TestSamples: the demo shoot comes first and is a canary in its window;
// the samples spread over every project and version, some wait for a
// closed window (late, never a canary), some have autoUpdate off; every
// window parses as the controller reads it.
func TestSamples(t *testing.T) {
	now := time.Date(2026, 12, 4, 21, 30, 0, 0, time.UTC)
	samples := Samples(30, []string{"0.42.1", "0.43.0"}, now)
	require.Len(t, samples, 30)
	assert.Equal(t, DemoShoot, samples[0].Name)
	assert.True(t, samples[0].Canary)
	projects, versions := map[string]int{}, map[string]int{}
	var late, pinned, canaries int
	for _, s := range samples {
		projects[s.Project]++
		versions[s.Falco]++
		w, err := rollout.ParseWindow(s.Begin, s.End)
		require.NoError(t, err, "%s: %s-%s", s.Name, s.Begin, s.End)
		assert.Equal(t, !s.Late, w.Contains(now), "%s: window %s-%s open now", s.Name, s.Begin, s.End)
		assert.False(t, s.Late && s.Canary, s.Name)
		late += boolInt(s.Late)
		pinned += boolInt(!s.AutoUpdate)
		canaries += boolInt(s.Canary)
		u := s.Object()
		f, ok, err := shoot.FalcoOf(u)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, s.Falco, f.Version)
		assert.Equal(t, "garden-"+s.Project, u.GetNamespace())
		assert.Equal(t, "shoot--"+s.Project+"--"+s.Name, s.SeedNamespace())
		assert.Equal(t, s.SeedNamespace(), seedNamespace(u))
	}
	assert.Len(t, projects, len(Projects))
	assert.Equal(t, map[string]int{"0.42.1": 15, "0.43.0": 15}, versions)
	assert.Equal(t, 6, late)
	assert.Equal(t, 4, pinned)
	assert.Equal(t, 4, canaries)
	p := Policy(time.Minute)
	assert.Equal(t, []string{"canary", "early", "rest"}, []string{p.Spec.Waves[0].Name, p.Spec.Waves[1].Name, p.Spec.Waves[2].Name})
}
