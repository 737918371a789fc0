package lifecycle

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	"github.com/falcops/falcops/internal/sharedtest"
)

// gardenerExample is the Gardener extension's own profile (shared reference).
const gardenerExample = "reference/gardener-falco-profile.yaml"

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

const header = `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata:
  name: test
`

// minimal is a valid profile with one Falco version.
const minimal = header + `spec:
  images:
    falco:
    - {version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
`

func TestGardenerExampleLoadsUnchanged(t *testing.T) {
	path := sharedtest.Path(t, gardenerExample)
	p, err := LoadFile(path)
	require.NoError(t, err, "the Gardener example must load unchanged")
	var got []string
	for _, v := range p.Versions() {
		got = append(got, v.Version+"/"+v.Classification)
	}
	want := []string{"0.40.0/deprecated", "0.41.3/deprecated", "0.42.1/supported", "0.43.0/deprecated", "0.44.1/preview"}
	assert.Equal(t, want, got, "versions")
	img, _ := p.Image("0.42.1")
	assert.Equal(t, "falcosecurity/falco:0.42.1", img)
	e, _ := p.EngineVersion("0.40.0")
	assert.Equal(t, "0.46.0", e, "engine of 0.40.0 (built-in table)")
	require.Len(t, p.FalcosidekickVersions(), 3)
	sk := p.FalcosidekickVersions()[2]
	assert.Equal(t, "europe-docker.pkg.dev/gardener-project/releases/gardener/falcosidekick-fork:v2.35.1", sk.Image)
	assert.False(t, p.Expired("0.40.0", mustTime(t, "2026-07-31T23:59:59Z")), "0.40.0 expired at its expiration second")
	assert.True(t, p.Expired("0.40.0", mustTime(t, "2026-08-01T00:00:00Z")), "0.40.0 not expired after its date")
	assert.False(t, p.Expired("0.42.1", mustTime(t, "2100-01-01T00:00:00Z")), "0.42.1 has no date and must never expire")
}

// TestGardenerExampleRoundTrip decodes the example strictly, encodes it
// again and requires the same content (nulls, which the Go types add for
// absent lists and creationTimestamp, aside).
func TestGardenerExampleRoundTrip(t *testing.T) {
	path := sharedtest.Path(t, gardenerExample)
	p, err := LoadFile(path)
	require.NoError(t, err)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var in any
	require.NoError(t, yaml.Unmarshal(data, &in))
	out, err := json.Marshal(p.Objects[0])
	require.NoError(t, err)
	var back any
	require.NoError(t, json.Unmarshal(out, &back))
	inJSON, _ := json.Marshal(in)
	var inGeneric any
	_ = json.Unmarshal(inJSON, &inGeneric)
	assert.Equal(t, dropNulls(inGeneric), dropNulls(back), "round trip differs")
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if e == nil {
				continue
			}
			if m, ok := e.(map[string]any); ok && len(m) == 0 {
				continue
			}
			out[k] = dropNulls(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = dropNulls(e)
		}
		return out
	default:
		return v
	}
}

func TestRepositoryProfileLoads(t *testing.T) {
	p, err := Load(filepath.Join("..", "profiles"))
	require.NoError(t, err, "profiles/ must load")
	want := map[string]string{"0.41.3": "deprecated", "0.42.1": "supported", "0.43.0": "supported", "0.44.1": "preview"}
	require.Len(t, p.Versions(), len(want), "versions %v", p.Versions())
	for _, v := range p.Versions() {
		assert.Equal(t, want[v.Version], v.Classification, "%s: classification", v.Version)
		assert.NotEmpty(t, v.EngineVersion, "%s: engineVersion must be filled in profiles/falco.yaml", v.Version)
		builtin, _ := BuiltinEngineVersion(v.Version)
		assert.Equal(t, builtin, v.EngineVersion, "%s: engineVersion against the built-in table", v.Version)
		assert.Equal(t, "falcosecurity/falco:"+v.Version, v.Image, "%s: image", v.Version)
	}
	assert.True(t, p.Expired("0.41.3", mustTime(t, "2027-03-01T00:00:00Z")), "0.41.3 must expire after 2027-02-28T23:59:59Z")
	assert.False(t, p.Expired("0.41.3", mustTime(t, "2027-02-28T23:59:59Z")), "0.41.3 must expire after 2027-02-28T23:59:59Z")
	sk := p.FalcosidekickVersions()
	if assert.Len(t, sk, 1) {
		assert.Equal(t, "2.32.0", sk[0].Version)
		assert.Equal(t, "supported", sk[0].Classification)
		assert.Equal(t, "falcosecurity/falcosidekick:2.32.0", sk[0].Image)
	}
}

func TestLoadProblems(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    []string // "line:col: message substring"
	}{
		{"unknown field in a version", header + `spec:
  versions:
    falco:
    - version: 0.42.1
      classification: supported
      rulesVersion: 5.0.0
      expiryDate: "2026-07-31T23:59:59Z"
`, []string{`:11:7: unknown field "expiryDate" in spec.versions.falco[0]`}},
		{"unknown top-level field", header + "spec: {}\nstatus: {}\n", []string{`:6:1: unknown field "status" in the document`}},
		{"unknown field in metadata", `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata:
  name: x
  label: {a: b}
spec: {}
`, []string{`:5:3: unknown field "label" in metadata`}},
		{"date without time zone", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - version: 0.42.1
      classification: deprecated
      expirationDate: "2026-07-31T23:59:59"
      rulesVersion: 5.0.0
`, []string{`:12:23: Falco 0.42.1: expirationDate "2026-07-31T23:59:59" is not an RFC 3339 date-time with a time zone`}},
		{"date only", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, expirationDate: 2026-07-31, rulesVersion: 5.0.0}
`, []string{`:10:69: Falco 0.42.1: expirationDate "2026-07-31" is not an RFC 3339`}},
		{"garbage date", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, expirationDate: "end of July", rulesVersion: 5.0.0}
`, []string{`:10:69: Falco 0.42.1: expirationDate "end of July"`}},
		{"unanchored classification", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: unsupported, rulesVersion: 5.0.0}
`, []string{`:10:41: Falco 0.42.1: classification "unsupported" must be one of preview, supported, deprecated`}},
		{"non-semver version", header + `spec:
  images:
    falco: [{version: "0.42", repository: r, tag: t}]
  versions:
    falco:
    - {version: "0.42", classification: supported, rulesVersion: 5.0.0}
`, []string{
			`:7:23: image version "0.42" is not a semantic version`,
			`:10:17: Falco version "0.42" is not a semantic version`,
		}},
		{"number where a string belongs", header + `spec:
  versions:
    falco:
    - {version: 0.42, classification: supported, rulesVersion: 5.0.0}
`, []string{`:8:17: spec.versions.falco[0].version: want a string, got float "0.42" (quote the value)`}},
		{"v prefix", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: v0.42.1, classification: supported, rulesVersion: 5.0.0}
`, []string{`Falco version "v0.42.1" is not a semantic version`}},
		{"missing rulesVersion", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: supported}
`, []string{`:10:7: Falco 0.42.1: rulesVersion "" is not a semantic version`}},
		{"bad engineVersion", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0, engineVersion: "57"}
`, []string{`:10:88: Falco 0.42.1: engineVersion "57" is not a semantic version`}},
		{"version without image", header + `spec:
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
`, []string{`:8:7: Falco 0.42.1 has no image: add it to spec.images.falco`}},
		{"image without repository", header + `spec:
  images:
    falco: [{version: 0.42.1, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
`, []string{`:7:13: image of falco 0.42.1: repository is required`}},
		{"conflicting duplicate in one document", header + `spec:
  images:
    falco: [{version: 0.42.1, repository: r, tag: t}]
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
    - {version: 0.42.1, classification: deprecated, rulesVersion: 5.0.0}
`, []string{`:11:7: Falco version 0.42.1 is defined differently at `}},
		{"duplicate key", header + `spec:
  versions:
    falco:
    - version: 0.42.1
      version: 0.42.2
`, []string{`:9:7: duplicate key "version" in spec.versions.falco[0] (first at line 8)`}},
		{"wrong kind and apiVersion", `apiVersion: falco.extensions.gardener.cloud/v1alpha1
kind: FalcoServiceConfig
metadata: {name: x}
spec: {}
`, []string{
			`:1:13: apiVersion is "falco.extensions.gardener.cloud/v1alpha1", want "falco.gardener.cloud/v1alpha1"`,
			`:2:7: kind is "FalcoServiceConfig", want "FalcoProfile"`,
		}},
		{"no name, namespaced", `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {namespace: garden}
spec: {}
`, []string{`:3:11: metadata.name is required`, `:3:23: FalcoProfile is cluster-scoped`}},
		{"list where a mapping belongs", header + "spec:\n  versions: []\n", []string{`:6:13: spec.versions: want a mapping, got a list`}},
		{"YAML syntax error", header + "spec:\n  versions: {falco: [\n", []string{`:7:`, `YAML: `}},
		{"empty file", "# nothing\n", []string{`:1:1: no FalcoProfile document in the file`}},
		{"sidekick with bad classification and date", header + `spec:
  versions:
    falcosidekick:
    - {version: 2.32.0, classification: Supported, expirationDate: "2026-07-31 23:59:59Z"}
`, []string{`:8:41: Falcosidekick 2.32.0: classification "Supported"`, `:8:68: Falcosidekick 2.32.0: expirationDate`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := sharedtest.WriteFile(t, t.TempDir(), "profile.yaml", c.content)
			_, err := LoadFile(path)
			require.Error(t, err, "loaded without error")
			require.ErrorIs(t, err, ErrInvalid)
			var le *LoadError
			require.ErrorAs(t, err, &le)
			for _, w := range c.want {
				if strings.HasPrefix(w, ":") {
					assert.Contains(t, err.Error(), path+w)
				} else {
					assert.Contains(t, err.Error(), w)
				}
			}
		})
	}
}

func TestLoadMergesFilesAndDocuments(t *testing.T) {
	dir := t.TempDir()
	a := sharedtest.WriteFile(t, dir, "a.yaml", minimal)
	// The same version again (identical) plus a new one, as a second
	// document of another file.
	b := sharedtest.WriteFile(t, dir, "b.yml", "---\n"+minimal+"---\n"+header+`spec:
  images:
    falco: [{version: 0.43.0, repository: falcosecurity/falco, tag: "sha256:0123"}]
  versions:
    falco:
    - {version: 0.43.0, classification: preview, rulesVersion: 5.0.0}
`)
	sharedtest.WriteFile(t, dir, "README.md", "not a profile")
	for _, paths := range [][]string{{a, b}, {dir}} {
		p, err := Load(paths...)
		require.NoError(t, err, "%v", paths)
		require.Len(t, p.Objects, 3, "%v", paths)
		require.Len(t, p.Versions(), 2, "%v", paths)
		img, _ := p.Image("0.43.0")
		assert.Equal(t, "falcosecurity/falco@sha256:0123", img, "digest image")
	}

	// A conflicting definition names both places, whatever the order.
	c := sharedtest.WriteFile(t, t.TempDir(), "c.yaml", header+`spec:
  images:
    falco: [{version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}]
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, rulesVersion: 5.0.0}
`)
	for _, order := range [][]string{{a, c}, {c, a}} {
		_, err := Load(order...)
		assert.ErrorContains(t, err, "Falco version 0.42.1 is defined differently at", "%v: want a conflict", order)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "missing file")
	assert.NotErrorIs(t, err, ErrInvalid, "missing file")
	_, err = Load(t.TempDir())
	assert.ErrorIs(t, err, ErrNoProfile, "empty directory")
	_, err = Load()
	assert.ErrorIs(t, err, ErrNoProfile, "no path")
}

func TestExpiredZones(t *testing.T) {
	p, err := LoadFile(sharedtest.WriteFile(t, t.TempDir(), "p.yaml", header+`spec:
  images:
    falco:
    - {version: 0.42.1, repository: r, tag: "0.42.1"}
    - {version: 0.43.0, repository: r, tag: "0.43.0"}
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, expirationDate: "2026-07-31T23:59:59+02:00", rulesVersion: 5.0.0}
    - {version: 0.43.0, classification: deprecated, expirationDate: 2026-07-31T23:59:59-05:00, rulesVersion: 5.0.0}
`))
	require.NoError(t, err)
	cases := []struct {
		version, at string
		want        bool
	}{
		{"0.42.1", "2026-07-31T21:59:59Z", false},
		{"0.42.1", "2026-07-31T22:00:00Z", true},
		{"0.42.1", "2026-07-31T23:59:59+02:00", false},
		{"0.42.1", "2026-08-01T00:00:00+02:00", true},
		{"0.43.0", "2026-08-01T04:59:59Z", false},
		{"0.43.0", "2026-08-01T05:00:00Z", true},
		{"0.43.0", "2026-08-01T06:59:59+02:00", false},
		{"0.99.0", "2000-01-01T00:00:00Z", true}, // not offered: counts as expired
	}
	for _, c := range cases {
		assert.Equal(t, c.want, p.Expired(c.version, mustTime(t, c.at)), "Expired(%s, %s)", c.version, c.at)
	}
}

func TestEngineVersionAndImage(t *testing.T) {
	p, err := LoadFile(sharedtest.WriteFile(t, t.TempDir(), "p.yaml", header+`spec:
  images:
    falco:
    - {version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}
    - {version: 0.45.0, repository: registry.example/falco, tag: ""}
    - {version: 0.36.2, repository: falcosecurity/falco, tag: 0.36.2}
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0}
    - {version: 0.45.0, classification: preview, rulesVersion: 5.0.0, engineVersion: 0.70.0}
    - {version: 0.36.2, classification: deprecated, rulesVersion: 1.0.0}
`))
	require.NoError(t, err)
	e, err := p.EngineVersion("0.42.1")
	if assert.NoError(t, err, "0.42.1") {
		assert.Equal(t, "0.57.0", e, "0.42.1")
	}
	e, err = p.EngineVersion("0.45.0")
	if assert.NoError(t, err, "0.45.0") {
		assert.Equal(t, "0.70.0", e, "0.45.0 (from the profile)")
	}
	_, err = p.EngineVersion("0.36.2")
	assert.ErrorIs(t, err, ErrUnknownEngine, "0.36.2")
	_, err = p.EngineVersion("0.40.0")
	assert.ErrorIs(t, err, ErrUnknownVersion, "0.40.0")
	img, _ := p.Image("0.45.0")
	assert.Equal(t, "registry.example/falco", img, "empty tag")
	_, err = p.Image("0.1.0")
	assert.ErrorIs(t, err, ErrUnknownVersion, "unknown image")
	var got []string
	for _, v := range p.Versions() {
		got = append(got, v.Version)
	}
	assert.Equal(t, []string{"0.36.2", "0.42.1", "0.45.0"}, got, "order: semver, not text")
}

func TestBuiltinEngineTable(t *testing.T) {
	want := map[string]string{
		"0.37.1": "0.31.0", "0.38.2": "0.40.0", "0.39.0": "0.43.0", "0.40.0": "0.46.0",
		"0.41.3": "0.50.0", "0.42.1": "0.57.0", "0.43.0": "0.58.0", "0.44.1": "0.62.0",
	}
	for v, e := range want {
		got, ok := BuiltinEngineVersion(v)
		assert.True(t, ok, v)
		assert.Equal(t, e, got, v)
	}
	for _, v := range []string{"0.36.0", "0.45.0", "x"} {
		got, ok := BuiltinEngineVersion(v)
		assert.False(t, ok, "%s: %q, want unknown", v, got)
	}
}

func TestFromObjects(t *testing.T) {
	ptr := func(s string) *string { return &s }
	good := &profilev1alpha1.FalcoProfile{}
	good.Name = "falco"
	good.Spec.Versions.Falco = []profilev1alpha1.FalcoVersion{
		{Version: "0.42.1", Classification: "supported", RulesVersion: "0.42.1"},
		{Version: "0.41.3", Classification: "deprecated", RulesVersion: "0.41.3", ExpirationDate: ptr("2027-02-28T23:59:59Z")},
	}
	good.Spec.Images.Falco = []profilev1alpha1.ImageSpec{
		{Version: "0.42.1", Repository: "falcosecurity/falco", Tag: "0.42.1"},
		{Version: "0.41.3", Repository: "falcosecurity/falco", Tag: "0.41.3"},
	}
	p, err := FromObjects(good)
	require.NoError(t, err)
	require.Len(t, p.Versions(), 2)
	require.Empty(t, good.APIVersion, "FromObjects changed its input")
	bad := good.DeepCopy()
	bad.Name = "bad"
	bad.Spec.Versions.Falco[0].ExpirationDate = ptr("2026-07-31T23:59:59")
	bad.Spec.Versions.Falco[0].Classification = "supported"
	_, err = FromObjects(good, bad)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "FalcoProfile/bad:1:1")
	require.ErrorContains(t, err, "expirationDate")
	_, err = FromObjects()
	require.ErrorIs(t, err, ErrNoProfile, "no objects")
}
