package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOutputScanner(t *testing.T) {
	type ref struct{ Percent, Field int }
	for _, tc := range []struct {
		name, format string
		skip         int // bytes each field takes
		want         []ref
	}{
		{"none", "no fields", 0, nil},
		{"leading star is not a format character", "*%a", 1, []ref{{1, 2}}},
		{"width digits", "x %12ab %c", 2, []ref{{2, 5}, {8, 9}}},
		{"skipped field hides a percent", "%a%b", 2, []ref{{0, 1}}},
		{"without skip the scan resumes after the percent", "%%a", 0, []ref{{0, 1}, {1, 2}}},
		{"ends with percent", "a %", 0, []ref{{2, 3}}},
		{"ends with width", "a %12", 0, []ref{{2, 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []ref
			for sc := NewOutputScanner(tc.format); sc.Next(); {
				got = append(got, ref{sc.Percent(), sc.Field()})
				if tc.skip > 0 {
					sc.Skip(tc.skip)
				}
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
