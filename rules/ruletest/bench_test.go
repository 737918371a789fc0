package ruletest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkEvaluate measures rule-test evaluation throughput: the events of
// the repository's rule tests, each evaluated against every loaded rule of
// its ruleset (Suite.Fired), reported as events per second.
func BenchmarkEvaluate(b *testing.B) {
	type set struct {
		suite  *Suite
		events []*Event
	}
	var sets []set
	events, ruleCount := 0, 0
	for _, name := range []string{"heartbeat", "custom-example"} {
		rd, rs := loadRuleset(b, filepath.Join("..", "..", "rulesets", name))
		cases, err := Load(filepath.Join(rd.Dir, "tests"))
		require.Nil(b, err)
		s := set{suite: NewSuite(rs)}
		for _, c := range cases {
			if c.Event != nil {
				s.events = append(s.events, c.Event)
			}
		}
		events += len(s.events)
		ruleCount += len(s.suite.loaded)
		sets = append(sets, s)
	}
	fired := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range sets {
			for _, ev := range s.events {
				fired += len(s.suite.Fired(ev))
			}
		}
	}
	b.StopTimer()
	require.NotZero(b, fired, "no rule fired")
	total := float64(b.N) * float64(events)
	b.ReportMetric(total/b.Elapsed().Seconds(), "events/sec")
	b.Logf("%d events, %d rules", events, ruleCount)
}
