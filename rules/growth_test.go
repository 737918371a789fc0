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
