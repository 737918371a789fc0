package ruletest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules"
)

// Hostile shapes that must cost linear time and memory (issue 12): a chain
// of macros each using the previous one twice, a big list referenced by
// many rules, and many appends to one rule's condition.

// macroChainRules: m0 tests proc.name; m<i> uses m<i-1> twice, so textual
// expansion would double at every level.
func macroChainRules(depth int) string {
	var b strings.Builder
	b.WriteString("- macro: m0\n  condition: proc.name = bash\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "- macro: m%d\n  condition: (m%d and proc.pid > %d) or (m%d and proc.pid < 0)\n", i, i-1, -i, i-1)
	}
	fmt.Fprintf(&b, "- rule: chain\n  desc: d\n  condition: evt.type = execve and m%d\n  output: o %%proc.name\n  priority: INFO\n", depth)
	return b.String()
}

// listReferenceRules: one list of items entries (and bash), used by
// rulesN rules.
func listReferenceRules(items, rulesN int) string {
	var b strings.Builder
	b.WriteString("- list: big\n  items: [")
	for i := 0; i < items; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "p%d", i)
	}
	b.WriteString(", bash]\n")
	for i := 0; i < rulesN; i++ {
		fmt.Fprintf(&b, "- rule: r%d\n  desc: d\n  condition: evt.type = execve and proc.name in (big)\n  output: o\n  priority: INFO\n", i)
	}
	return b.String()
}

// appendRules: one rule and n appends to its condition.
func appendRules(n int) string {
	var b strings.Builder
	b.WriteString("- rule: r\n  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: INFO\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- rule: r\n  condition: and proc.pid != %d\n  override:\n    condition: append\n", i+1)
	}
	return b.String()
}

// growthEvent fires every generated rule.
func growthEvent(tb testing.TB) *Event {
	tb.Helper()
	ev, err := NewEvent(DefaultSource)
	require.NoError(tb, err)
	require.NoError(tb, ev.Set("evt.type", "execve"))
	require.NoError(tb, ev.Set("proc.name", "bash"))
	require.NoError(tb, ev.Set("proc.pid", "0"))
	return ev
}

// loadAndFire is what falcops test does with a ruleset: load it, compile
// the suite and evaluate the event; every rule must fire.
func loadAndFire(tb testing.TB, src []byte, ev *Event) {
	rs := rules.LoadBytes("growth.yaml", src, rules.Options{})
	require.Zero(tb, rs.Findings.Errors(), "%v", rs.Findings)
	s := NewSuite(rs)
	require.Empty(tb, s.CompileErrors())
	require.Len(tb, s.Fired(ev), len(rs.Rules))
}

func benchGrowth(b *testing.B, src string) {
	ev := growthEvent(b)
	data := []byte(src)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		loadAndFire(b, data, ev)
	}
}

// BenchmarkMacroChain: each level doubles the textual expansion; the cost
// must grow linearly with the depth.
func BenchmarkMacroChain(b *testing.B) {
	for _, depth := range growthSizes(b, []int{10, 20, 40}) {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) { benchGrowth(b, macroChainRules(depth)) })
	}
}

// BenchmarkListReferences: a 100k-item list referenced by n rules.
func BenchmarkListReferences(b *testing.B) {
	for _, n := range growthSizes(b, []int{1000, 2000}) {
		b.Run(fmt.Sprintf("items=100k/rules=%d", n), func(b *testing.B) { benchGrowth(b, listReferenceRules(100_000, n)) })
	}
}

// BenchmarkConditionAppends: n appends to one rule's condition.
func BenchmarkConditionAppends(b *testing.B) {
	for _, n := range growthSizes(b, []int{10_000, 20_000, 40_000}) {
		b.Run(fmt.Sprintf("n=%dk", n/1000), func(b *testing.B) { benchGrowth(b, appendRules(n)) })
	}
}

// growthSizes are the sizes to measure; FALCOPS_GROWTH_SIZES overrides them
// (to measure old code with sizes that finish).
func growthSizes(tb testing.TB, def []int) []int {
	s := os.Getenv("FALCOPS_GROWTH_SIZES")
	if s == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(f)
		require.NoError(tb, err)
		out = append(out, n)
	}
	return out
}

// allocated is how many bytes f allocates (counted, not timed).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestMacroChainIsLinear: doubling the depth of a chain of macros each
// using the previous one twice must about double the work, not square it
// (textual expansion allocated 250 times more at depth 16 than at 8).
func TestMacroChainIsLinear(t *testing.T) {
	ev := growthEvent(t)
	allocs := func(depth int) float64 {
		src := []byte(macroChainRules(depth))
		return testing.AllocsPerRun(1, func() { loadAndFire(t, src, ev) })
	}
	a8, a16 := allocs(8), allocs(16)
	t.Logf("allocations: %.0f at depth 8, %.0f at depth 16 (%.2fx)", a8, a16, a16/a8)
	require.Less(t, a16/a8, 3.0, "allocations: %.0f at depth 8, %.0f at depth 16", a8, a16)
}

// TestListReferencesAreShared: a list referenced by many rules is not
// copied (or parsed) per reference: 100 rules using a 10k-item list cost
// less than twice what one rule does.
func TestListReferencesAreShared(t *testing.T) {
	ev := growthEvent(t)
	bytes := func(rulesN int) uint64 {
		src := []byte(listReferenceRules(10_000, rulesN))
		return allocated(func() { loadAndFire(t, src, ev) })
	}
	one, hundred := bytes(1), bytes(100)
	t.Logf("bytes: %d for 1 rule, %d for 100 (%.2fx)", one, hundred, float64(hundred)/float64(one))
	require.Less(t, float64(hundred)/float64(one), 2.0, "bytes allocated: %d for 1 rule, %d for 100 rules", one, hundred)
}
