package artifacts

import (
	"errors"
	"strings"
	"testing"
)

func TestTags(t *testing.T) {
	cases := []struct {
		name     string
		version  string
		existing []string
		want     string
	}{
		// The two cases of falcosecurity/rules build/registry/tag_test.go
		// (reference/falco-rules.md 11.2).
		{"upstream: patch on an old major", "1.0.2", []string{"0.1.2", "0.2.0", "1.0.0", "2.0.0", "2.0.2"}, "1.0.2,1.0,1"},
		{"upstream: pre-release does not hold back latest", "1.0.2", []string{"1.0.0", "1.0.1", "2.0.0-rc1"}, "1.0.2,1.0,1,latest"},
		// Earlier upstream cases, with the major tag upstream added since.
		{"upstream: newest", "0.3.2", []string{"0.1.1", "0.2.0", "0.3.1"}, "0.3.2,0.3,0,latest"},
		{"upstream: older patch", "0.1.1", []string{"0.1.2", "0.2.0", "0.3.1"}, "0.1.1"},
		{"upstream: latest in its minor line", "0.1.3", []string{"0.1.2", "0.2.0", "0.3.1"}, "0.1.3,0.1"},

		{"first release", "1.0.0", nil, "1.0.0,1.0,1,latest"},
		{"pre-release gets only its own tag", "2.0.0-rc.1", []string{"1.0.0"}, "2.0.0-rc.1"},
		{"pre-release into an empty repository", "0.1.0-alpha", nil, "0.1.0-alpha"},
		{"final after its pre-releases", "2.0.0", []string{"1.4.0", "2.0.0-rc.1", "2.0.0-rc.2", "latest", "1", "1.4"}, "2.0.0,2.0,2,latest"},
		{"out of order: old minor after a newer minor", "1.1.5", []string{"1.1.4", "1.2.0"}, "1.1.5,1.1"},
		{"out of order: old major after a newer major", "1.9.0", []string{"1.8.0", "2.0.0", "3.1.0"}, "1.9.0,1.9,1"},
		{"out of order: the newest of a line published last", "3.2.0", []string{"3.0.0", "3.1.0", "1.0.0"}, "3.2.0,3.2,3,latest"},
		{"republishing the same version moves nothing back", "1.2.3", []string{"1.2.3", "1.2.2"}, "1.2.3,1.2,1,latest"},
		{"non-semver and floating tags ignored", "1.0.1", []string{"latest", "1", "1.0", "v9.0.0", "sha256-abc.sig", "09.0.0", "main"}, "1.0.1,1.0,1,latest"},
		{"higher pre-releases in the same line are ignored", "1.0.1", []string{"1.0.2-rc.1", "1.1.0-beta", "1.0.0"}, "1.0.1,1.0,1,latest"},
		{"numeric not lexical comparison", "1.10.0", []string{"1.9.0", "1.2.0"}, "1.10.0,1.10,1,latest"},
		{"lexically greater but numerically smaller", "1.9.0", []string{"1.10.0"}, "1.9.0,1.9"},
		{"major zero line: a newer minor holds back 0", "0.2.1", []string{"0.2.0", "0.3.0", "1.0.0"}, "0.2.1,0.2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Tags(tc.version, tc.existing)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("Tags(%s, %v) = %v, want %s", tc.version, tc.existing, got, tc.want)
			}
		})
	}
}

func TestTagsInvalidVersion(t *testing.T) {
	for _, v := range []string{"", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0+build.1", "1.0.0-", "latest", "1.0.0.0", "99999999999999999999.0.0"} {
		if _, err := Tags(v, nil); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("Tags(%q): got %v, want ErrInvalidVersion", v, err)
		}
	}
}
