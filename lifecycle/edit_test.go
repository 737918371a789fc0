package lifecycle

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// editFixture is a valid profile with comments and mixed, odd-but-valid
// formatting: flow and block list items, quoted and plain scalars,
// unusual spacing and trailing comments.
const editFixture = `# Falco profile used by the edit tests.
# expirationDate: RFC 3339 with a time zone (this comment must not set the quoting style).
apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata:
  name: falco   # the name
spec:
  images:
    falco:
    - {version: 0.41.3, repository: falcosecurity/falco, tag: 0.41.3}
    -   { version: 0.42.1,  repository: falcosecurity/falco, tag: "0.42.1" }  # odd spacing
    - {version: 0.43.0, repository: falcosecurity/falco, tag: 0.43.0}
    - {version: 0.44.1, repository: falcosecurity/falco, tag: 0.44.1}
    # more images go here
    falcosidekick:
    - {version: 2.32.0, repository: falcosecurity/falcosidekick, tag: 2.32.0}
    falcoctl: []
  versions:
    falco:
      # oldest
      - version: 0.41.3
        classification: deprecated   # going away
        expirationDate: '2027-02-28T23:59:59Z'
        rulesVersion: 4.0.0
      - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0, engineVersion: 0.57.0}
      - { version: 0.43.0, classification: "supported", rulesVersion: 5.0.0 }
      - version: 0.44.1
        classification: preview
        rulesVersion: 5.0.0   # falco-rules 5
    # sidekick
    falcosidekick:
    - {version: 2.32.0, classification: supported}
    falcoctl: []
`

var editNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func writeFixture(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "falco.yaml")
	require.NoError(t, os.WriteFile(file, []byte(editFixture), 0o644))
	return file
}

// replace returns editFixture with old (which must occur once) replaced.
func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "times %q in the fixture", old)
	return strings.Replace(s, old, new, 1)
}

func checkFile(t *testing.T, file, want string) {
	t.Helper()
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "file differs")
	_, err = Load(file)
	assert.NoError(t, err, "edited file does not load")
}

func TestEditPromote(t *testing.T) {
	for _, tc := range []struct {
		name, version, to, old, new, message string
	}{
		{"preview block", "0.44.1", "supported",
			"        classification: preview\n", "        classification: supported\n",
			"profile: promote falco 0.44.1 to supported"},
		{"undeprecate block removes expirationDate", "0.41.3", "supported",
			"        classification: deprecated   # going away\n        expirationDate: '2027-02-28T23:59:59Z'\n",
			"        classification: supported   # going away\n",
			"profile: promote falco 0.41.3 to supported"},
		{"demote keeps quotes", "0.43.0", "preview",
			`classification: "supported", rulesVersion: 5.0.0 }`, `classification: "preview", rulesVersion: 5.0.0 }`,
			"profile: demote falco 0.43.0 to preview"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFixture(t)
			c, err := Promote(file, tc.version, tc.to, editNow)
			require.NoError(t, err)
			assert.Equal(t, tc.message, c.Message)
			checkFile(t, file, replace(t, editFixture, tc.old, tc.new))
		})
	}
}

func TestEditPromoteFlowUndeprecate(t *testing.T) {
	file := writeFixture(t)
	_, err := Deprecate(file, "0.42.1", time.Date(2027, 6, 30, 23, 59, 59, 0, time.UTC), editNow)
	require.NoError(t, err)
	_, err = Promote(file, "0.42.1", "supported", editNow)
	require.NoError(t, err)
	checkFile(t, file, editFixture) // a round trip restores the bytes
}

func TestEditDeprecate(t *testing.T) {
	expires := time.Date(2027, 6, 30, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		name, version, old, new string
	}{
		{"flow inserts after classification", "0.42.1",
			"{version: 0.42.1, classification: supported, rulesVersion: 5.0.0, engineVersion: 0.57.0}",
			"{version: 0.42.1, classification: deprecated, expirationDate: '2027-06-30T23:59:59Z', rulesVersion: 5.0.0, engineVersion: 0.57.0}"},
		{"block inserts a line", "0.44.1",
			"        classification: preview\n",
			"        classification: deprecated\n        expirationDate: '2027-06-30T23:59:59Z'\n"},
		{"deprecated gets a new date", "0.41.3",
			"expirationDate: '2027-02-28T23:59:59Z'", "expirationDate: '2027-06-30T23:59:59Z'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFixture(t)
			c, err := Deprecate(file, tc.version, expires, editNow)
			require.NoError(t, err)
			assert.Equal(t, "profile: deprecate falco "+tc.version+", expires 2027-06-30T23:59:59Z", c.Message)
			checkFile(t, file, replace(t, editFixture, tc.old, tc.new))
		})
	}
}

func TestEditDeprecateDoubleQuotedStyle(t *testing.T) {
	// Without a single-quoted date in the file, dates are double-quoted;
	// a non-UTC expiry is written in UTC.
	src := replace(t, editFixture, "expirationDate: '2027-02-28T23:59:59Z'", `expirationDate: "2027-02-28T23:59:59Z"`)
	file := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
	expires := time.Date(2027, 7, 1, 1, 59, 59, 0, time.FixedZone("CEST", 2*3600))
	_, err := Deprecate(file, "0.44.1", expires, editNow)
	require.NoError(t, err)
	checkFile(t, file, replace(t, src, "        classification: preview\n",
		"        classification: deprecated\n        expirationDate: \"2027-06-30T23:59:59Z\"\n"))
}

func TestEditAdd(t *testing.T) {
	file := writeFixture(t)
	c, err := Add(file, "0.45.0", AddOptions{Image: "falcosecurity/falco:0.45.0", EngineVersion: "0.63.0"}, editNow)
	require.NoError(t, err)
	assert.Equal(t, "profile: add falco 0.45.0 as preview", c.Message)
	want := replace(t, editFixture, "tag: 0.44.1}\n", "tag: 0.44.1}\n    - {version: 0.45.0, repository: falcosecurity/falco, tag: 0.45.0}\n")
	want = replace(t, want, "        rulesVersion: 5.0.0   # falco-rules 5\n",
		"        rulesVersion: 5.0.0   # falco-rules 5\n      - version: 0.45.0\n        classification: preview\n        rulesVersion: 5.0.0\n        engineVersion: 0.63.0\n")
	checkFile(t, file, want)
}

func TestEditAddFlowStyleAndDigest(t *testing.T) {
	file := writeFixture(t)
	// After adding one flow-style entry, the next is appended flow-style too.
	src := replace(t, editFixture, "      - version: 0.44.1\n        classification: preview\n        rulesVersion: 5.0.0   # falco-rules 5\n",
		"      - {version: 0.44.1, classification: preview, rulesVersion: 5.0.0}\n")
	require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
	digest := "sha256:" + strings.Repeat("ab", 32)
	_, err := Add(file, "0.44.2", AddOptions{Image: "example.com:5000/falco@" + digest, Classification: "supported", RulesVersion: "5.0.1"}, editNow)
	require.NoError(t, err)
	want := replace(t, src, "tag: 0.44.1}\n", "tag: 0.44.1}\n    - {version: 0.44.2, repository: \"example.com:5000/falco\", tag: \""+digest+"\"}\n")
	want = replace(t, want, "      - {version: 0.44.1, classification: preview, rulesVersion: 5.0.0}\n",
		"      - {version: 0.44.1, classification: preview, rulesVersion: 5.0.0}\n      - {version: 0.44.2, classification: supported, rulesVersion: 5.0.1}\n")
	checkFile(t, file, want)
}

func TestEditRefused(t *testing.T) {
	future := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		edit func(file string) error
	}{
		{"deprecate the last supported", func(file string) error {
			// 0.42.1 is gone from supported after this, 0.43.0 is the last.
			if _, err := Deprecate(file, "0.42.1", future, editNow); err != nil {
				return err
			}
			before, _ := os.ReadFile(file)
			_, err := Deprecate(file, "0.43.0", future, editNow)
			after, _ := os.ReadFile(file)
			assert.Equal(t, string(before), string(after), "refused edit changed the file")
			return err
		}},
		{"demote the last supported", func(file string) error {
			if _, err := Promote(file, "0.42.1", "preview", editNow); err != nil {
				return err
			}
			_, err := Promote(file, "0.43.0", "preview", editNow)
			return err
		}},
		{"promote an expired version", func(file string) error {
			_, err := Promote(file, "0.41.3", "supported", time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
			return err
		}},
		{"promote an unknown version", func(file string) error {
			_, err := Promote(file, "0.40.0", "supported", editNow)
			return err
		}},
		{"promote to the same classification", func(file string) error {
			_, err := Promote(file, "0.42.1", "supported", editNow)
			return err
		}},
		{"promote to deprecated", func(file string) error {
			_, err := Promote(file, "0.44.1", "deprecated", editNow)
			return err
		}},
		{"deprecate an unknown version", func(file string) error {
			_, err := Deprecate(file, "0.40.0", future, editNow)
			return err
		}},
		{"expiry in the past", func(file string) error {
			_, err := Deprecate(file, "0.42.1", editNow.Add(-time.Hour), editNow)
			return err
		}},
		{"add an existing version", func(file string) error {
			_, err := Add(file, "0.43.0", AddOptions{Image: "falcosecurity/falco:0.43.0"}, editNow)
			return err
		}},
		{"add without a known engine", func(file string) error {
			_, err := Add(file, "0.45.0", AddOptions{Image: "falcosecurity/falco:0.45.0"}, editNow)
			return err
		}},
		{"add deprecated", func(file string) error {
			_, err := Add(file, "0.44.2", AddOptions{Image: "falcosecurity/falco:0.44.2", Classification: "deprecated"}, editNow)
			return err
		}},
		{"add with a bad image", func(file string) error {
			_, err := Add(file, "0.44.2", AddOptions{Image: "falcosecurity/falco"}, editNow)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFixture(t)
			err := tc.edit(file)
			require.ErrorIs(t, err, ErrRefused)
			t.Log(err)
		})
	}
}

func TestEditRefusedLeavesFile(t *testing.T) {
	file := writeFixture(t)
	_, err := Deprecate(file, "0.42.1", editNow.Add(-time.Hour), editNow)
	require.ErrorIs(t, err, ErrRefused)
	checkFile(t, file, editFixture)
}

func TestEditNoFinalNewline(t *testing.T) {
	// The versions list is last and the file lacks its final newline.
	src := `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: falco}
spec:
  images:
    falco:
    - version: 0.42.1
      repository: falcosecurity/falco
      tag: 0.42.1
    falcosidekick: []
    falcoctl: []
  versions:
    falcosidekick: []
    falcoctl: []
    falco:
    - version: 0.42.1
      classification: supported
      rulesVersion: 5.0.0`
	file := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
	_, err := Add(file, "0.43.0", AddOptions{Image: "falcosecurity/falco:0.43.0"}, editNow)
	require.NoError(t, err)
	want := replace(t, src, "      tag: 0.42.1\n", "      tag: 0.42.1\n    - version: 0.43.0\n      repository: falcosecurity/falco\n      tag: 0.43.0\n")
	want += "\n    - version: 0.43.0\n      classification: preview\n      rulesVersion: 5.0.0"
	checkFile(t, file, want)
	_, err = Deprecate(file, "0.42.1", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), editNow)
	require.ErrorIs(t, err, ErrRefused, "deprecating the last supported")
	_, err = Promote(file, "0.43.0", "supported", editNow)
	require.NoError(t, err)
	_, err = Deprecate(file, "0.42.1", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), editNow)
	require.NoError(t, err)
	want = replace(t, want, "      classification: supported\n", "      classification: deprecated\n      expirationDate: \"2027-01-01T00:00:00Z\"\n")
	want = replace(t, want, "      classification: preview\n", "      classification: supported\n")
	checkFile(t, file, want)
}

func TestEditInsertAtEndOfFile(t *testing.T) {
	// classification is the last line and the file lacks its final
	// newline: the inserted line goes after it, still without one.
	src := `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: falco}
spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: a}, {version: 0.43.0, repository: r, tag: b}]
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
    - version: 0.43.0
      rulesVersion: 5.0.0
      classification: preview`
	file := filepath.Join(t.TempDir(), "p.yaml")
	require.NoError(t, os.WriteFile(file, []byte(src), 0o644))
	_, err := Deprecate(file, "0.43.0", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), editNow)
	require.NoError(t, err)
	checkFile(t, file, replace(t, src, "classification: preview", "classification: deprecated\n      expirationDate: \"2027-01-01T00:00:00Z\""))
	// Appending to a flow list is refused, without writing.
	before, _ := os.ReadFile(file)
	_, err = Add(file, "0.44.1", AddOptions{Image: "r:c"}, editNow)
	require.Error(t, err, "want an error for a flow-style images list")
	after, _ := os.ReadFile(file)
	assert.Equal(t, string(before), string(after), "the file changed")
}
