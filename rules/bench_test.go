package rules

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// finalCorpus reads every final upstream release file once.
func finalCorpus(b *testing.B) (names []string, data [][]byte, total int64) {
	b.Helper()
	for _, f := range corpus(b) {
		if !f.final {
			continue
		}
		src := readCorpusFile(b, f)
		names = append(names, src.Name)
		data = append(data, src.Data)
		total += int64(len(src.Data))
	}
	return names, data, total
}

// BenchmarkValidateCorpus loads and checks every final upstream release file,
// each on its own, per iteration.
func BenchmarkValidateCorpus(b *testing.B) {
	names, data, total := finalCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range data {
			rs := Load([]*Source{{Name: names[i], Data: data[i]}}, Options{})
			require.Zero(b, rs.Findings.Errors(), "%s: errors", names[i])
		}
	}
}

// BenchmarkDecodeCorpus is the baseline: decoding the same bytes into
// yaml.Node trees (every document), which every load has to do.
func BenchmarkDecodeCorpus(b *testing.B) {
	_, data, total := finalCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, d := range data {
			dec := yaml.NewDecoder(bytes.NewReader(d))
			for {
				var n yaml.Node
				err := dec.Decode(&n)
				if errors.Is(err, io.EOF) {
					break
				}
				require.NoError(b, err)
			}
		}
	}
}
