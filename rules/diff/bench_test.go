package diff

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/rules"
)

// largestPair returns the two consecutive final upstream releases of one
// ruleset whose files are together the largest.
func largestPair(b *testing.B) (oldName string, oldData []byte, newName string, newData []byte) {
	b.Helper()
	best := -1
	for _, rels := range finalReleases(b) {
		for i := 1; i < len(rels); i++ {
			o, err := os.ReadFile(rels[i-1].path)
			require.NoError(b, err)
			n, err := os.ReadFile(rels[i].path)
			require.NoError(b, err)
			if size := len(o) + len(n); size > best {
				best = size
				oldName, oldData, newName, newData = rels[i-1].path, o, rels[i].path, n
			}
		}
	}
	return oldName, oldData, newName, newData
}

func loadPair(b *testing.B, on string, od []byte, nn string, nd []byte) (*rules.Ruleset, *rules.Ruleset) {
	o := rules.LoadBytes(on, od, rules.Options{})
	n := rules.LoadBytes(nn, nd, rules.Options{})
	require.Zero(b, o.Findings.Errors(), "load errors in %s", on)
	require.Zero(b, n.Findings.Errors(), "load errors in %s", nn)
	return o, n
}

// BenchmarkLoadLargestPair loads the two largest consecutive upstream
// files: the baseline for BenchmarkDiffLargestPair.
func BenchmarkLoadLargestPair(b *testing.B) {
	on, od, nn, nd := largestPair(b)
	b.SetBytes(int64(len(od) + len(nd)))
	b.ReportAllocs()
	for b.Loop() {
		loadPair(b, on, od, nn, nd)
	}
}

// BenchmarkDiffLargestPair loads the same two files and diffs them.
func BenchmarkDiffLargestPair(b *testing.B) {
	on, od, nn, nd := largestPair(b)
	b.SetBytes(int64(len(od) + len(nd)))
	b.ReportAllocs()
	for b.Loop() {
		o, n := loadPair(b, on, od, nn, nd)
		Compare(o, n)
	}
}

// BenchmarkCompareLargestPair is the diff alone, on loaded rulesets.
func BenchmarkCompareLargestPair(b *testing.B) {
	on, od, nn, nd := largestPair(b)
	o, n := loadPair(b, on, od, nn, nd)
	b.ReportAllocs()
	for b.Loop() {
		Compare(o, n)
	}
}

// BenchmarkCompareAllUpstreamPairs diffs every consecutive pair of final
// upstream releases (loaded once, outside the timer): the diff on real
// release-to-release changes, not only on the largest, nearly identical
// pair.
func BenchmarkCompareAllUpstreamPairs(b *testing.B) {
	var pairs [][2]*rules.Ruleset
	for _, rels := range finalReleases(b) {
		for i := 1; i < len(rels); i++ {
			pairs = append(pairs, [2]*rules.Ruleset{loadRelease(b, rels[i-1]), loadRelease(b, rels[i])})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range pairs {
			Compare(p[0], p[1])
		}
	}
}
