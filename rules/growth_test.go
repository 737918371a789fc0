package rules

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConditionAppendsAreLinear: n appends to one rule's condition cost
// linear memory. Joining the text at every append copied it each time
// (quadratic: 4x the appends allocated 16x the bytes).
func TestConditionAppendsAreLinear(t *testing.T) {
	bytes := func(n int) uint64 {
		var b strings.Builder
		b.WriteString("- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: INFO\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "- rule: r\n  condition: and proc.pid != %d\n  override:\n    condition: append\n", i+1)
		}
		src := []byte(b.String())
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rs := LoadBytes("appends.yaml", src, Options{})
		runtime.ReadMemStats(&after)
		require.Zero(t, rs.Findings.Errors(), "%v", rs.Findings)
		require.Contains(t, rs.Rule("r").Condition.Value, fmt.Sprintf("and proc.pid != %d", n))
		return after.TotalAlloc - before.TotalAlloc
	}
	small, big := bytes(2_000), bytes(8_000)
	t.Logf("bytes: %d for 2k appends, %d for 8k (%.2fx)", small, big, float64(big)/float64(small))
	require.Less(t, float64(big)/float64(small), 6.0, "bytes allocated: %d for 2k appends, %d for 8k", small, big)
}

// TestMacroChainWarningsAreLinear: a warning in the first macro of a chain
// where each macro uses the previous one twice is collected once per macro,
// not once per path (which doubles at every level).
func TestMacroChainWarningsAreLinear(t *testing.T) {
	allocs := func(depth int) float64 {
		var b strings.Builder
		b.WriteString("- macro: m0\n  condition: evt.dir = < and proc.name = bash\n")
		for i := 1; i <= depth; i++ {
			fmt.Fprintf(&b, "- macro: m%d\n  condition: (m%d and proc.pid > 0) or (m%d and proc.pid < 0)\n", i, i-1, i-1)
		}
		fmt.Fprintf(&b, "- rule: chain\n  desc: d\n  condition: evt.type = execve and m%d\n  output: o\n  priority: INFO\n", depth)
		src := []byte(b.String())
		return testing.AllocsPerRun(1, func() {
			rs := LoadBytes("chain.yaml", src, Options{Engine: Engine042})
			require.Equal(t, 1, rs.Findings.Warnings(), "%v", rs.Findings)
		})
	}
	a8, a16 := allocs(8), allocs(16)
	t.Logf("allocations: %.0f at depth 8, %.0f at depth 16 (%.2fx)", a8, a16, a16/a8)
	require.Less(t, a16/a8, 3.0)
}
