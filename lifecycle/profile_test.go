package lifecycle

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
)

// gardenerExample is the Gardener extension's own profile (shared reference).
var gardenerExample = filepath.Join("..", "..", "shared", "reference", "gardener-falco-profile.yaml")

// sharedFile returns path, or skips when it is absent (fails with
// FALCOPS_REQUIRE_SHARED=1).
func sharedFile(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("FALCOPS_REQUIRE_SHARED") == "1" {
			t.Fatalf("%s is missing and FALCOPS_REQUIRE_SHARED=1", path)
		}
		t.Skipf("%s is absent; skipping (set FALCOPS_REQUIRE_SHARED=1 to make this an error)", path)
	}
	return path
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
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
	path := sharedFile(t, gardenerExample)
	p, err := LoadFile(path)
	if err != nil {
		t.Fatalf("the Gardener example must load unchanged:\n%v", err)
	}
	var got []string
	for _, v := range p.Versions() {
		got = append(got, v.Version+"/"+v.Classification)
	}
	want := []string{"0.40.0/deprecated", "0.41.3/deprecated", "0.42.1/supported", "0.43.0/deprecated", "0.44.1/preview"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	if img, _ := p.Image("0.42.1"); img != "falcosecurity/falco:0.42.1" {
		t.Errorf("image %q", img)
	}
	if e, _ := p.EngineVersion("0.40.0"); e != "0.46.0" {
		t.Errorf("engine of 0.40.0 = %q, want 0.46.0 (built-in table)", e)
	}
	if n := len(p.FalcosidekickVersions()); n != 3 {
		t.Errorf("%d falcosidekick versions, want 3", n)
	}
	sk := p.FalcosidekickVersions()[2]
	if sk.Image != "europe-docker.pkg.dev/gardener-project/releases/gardener/falcosidekick-fork:v2.35.1" {
		t.Errorf("falcosidekick image %q", sk.Image)
	}
	if p.Expired("0.40.0", mustTime(t, "2026-07-31T23:59:59Z")) {
		t.Error("0.40.0 expired at its expiration second")
	}
	if !p.Expired("0.40.0", mustTime(t, "2026-08-01T00:00:00Z")) {
		t.Error("0.40.0 not expired after its date")
	}
	if p.Expired("0.42.1", mustTime(t, "2100-01-01T00:00:00Z")) {
		t.Error("0.42.1 has no date and must never expire")
	}
}

// TestGardenerExampleRoundTrip decodes the example strictly, encodes it
// again and requires the same content (nulls, which the Go types add for
// absent lists and creationTimestamp, aside).
func TestGardenerExampleRoundTrip(t *testing.T) {
	path := sharedFile(t, gardenerExample)
	p, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in any
	if err := yaml.Unmarshal(data, &in); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(p.Objects[0])
	if err != nil {
		t.Fatal(err)
	}
	var back any
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	inJSON, _ := json.Marshal(in)
	var inGeneric any
	_ = json.Unmarshal(inJSON, &inGeneric)
	if a, b := dropNulls(inGeneric), dropNulls(back); !reflect.DeepEqual(a, b) {
		t.Errorf("round trip differs:\n in: %v\nout: %v", a, b)
	}
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
	if err != nil {
		t.Fatalf("profiles/ must load:\n%v", err)
	}
	want := map[string]string{"0.41.3": "deprecated", "0.42.1": "supported", "0.43.0": "supported", "0.44.1": "preview"}
	if len(p.Versions()) != len(want) {
		t.Fatalf("versions %v", p.Versions())
	}
	for _, v := range p.Versions() {
		if want[v.Version] != v.Classification {
			t.Errorf("%s: classification %q, want %q", v.Version, v.Classification, want[v.Version])
		}
		if v.EngineVersion == "" {
			t.Errorf("%s: engineVersion must be filled in profiles/falco.yaml", v.Version)
		}
		if builtin, _ := BuiltinEngineVersion(v.Version); builtin != v.EngineVersion {
			t.Errorf("%s: engineVersion %s, built-in table says %s", v.Version, v.EngineVersion, builtin)
		}
		if v.Image != "falcosecurity/falco:"+v.Version {
			t.Errorf("%s: image %q", v.Version, v.Image)
		}
	}
	if !p.Expired("0.41.3", mustTime(t, "2027-03-01T00:00:00Z")) || p.Expired("0.41.3", mustTime(t, "2027-02-28T23:59:59Z")) {
		t.Error("0.41.3 must expire after 2027-02-28T23:59:59Z")
	}
	sk := p.FalcosidekickVersions()
	if len(sk) != 1 || sk[0].Version != "2.32.0" || sk[0].Classification != "supported" || sk[0].Image != "falcosecurity/falcosidekick:2.32.0" {
		t.Errorf("falcosidekick %+v", sk)
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
			path := writeFile(t, t.TempDir(), "profile.yaml", c.content)
			_, err := LoadFile(path)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LoadError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), path+w) && !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
				if strings.HasPrefix(w, ":") && !strings.Contains(err.Error(), path+w) {
					t.Errorf("missing %q in:\n%v", path+w, err)
				}
			}
		})
	}
}

func TestLoadMergesFilesAndDocuments(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yaml", minimal)
	// The same version again (identical) plus a new one, as a second
	// document of another file.
	b := writeFile(t, dir, "b.yml", "---\n"+minimal+"---\n"+header+`spec:
  images:
    falco: [{version: 0.43.0, repository: falcosecurity/falco, tag: "sha256:0123"}]
  versions:
    falco:
    - {version: 0.43.0, classification: preview, rulesVersion: 5.0.0}
`)
	writeFile(t, dir, "README.md", "not a profile")
	for _, paths := range [][]string{{a, b}, {dir}} {
		p, err := Load(paths...)
		if err != nil {
			t.Fatalf("%v: %v", paths, err)
		}
		if len(p.Objects) != 3 || len(p.Versions()) != 2 {
			t.Fatalf("%v: %d objects, versions %+v", paths, len(p.Objects), p.Versions())
		}
		if img, _ := p.Image("0.43.0"); img != "falcosecurity/falco@sha256:0123" {
			t.Errorf("digest image %q", img)
		}
	}

	// A conflicting definition names both places, whatever the order.
	c := writeFile(t, t.TempDir(), "c.yaml", header+`spec:
  images:
    falco: [{version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}]
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, rulesVersion: 5.0.0}
`)
	for _, order := range [][]string{{a, c}, {c, a}} {
		_, err := Load(order...)
		if err == nil || !strings.Contains(err.Error(), "Falco version 0.42.1 is defined differently at") {
			t.Errorf("%v: want a conflict, got %v", order, err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
	_, err = Load(t.TempDir())
	if !errors.Is(err, ErrNoProfile) {
		t.Errorf("empty directory: %v", err)
	}
	_, err = Load()
	if !errors.Is(err, ErrNoProfile) {
		t.Errorf("no path: %v", err)
	}
}

func TestExpiredZones(t *testing.T) {
	p, err := LoadFile(writeFile(t, t.TempDir(), "p.yaml", header+`spec:
  images:
    falco:
    - {version: 0.42.1, repository: r, tag: "0.42.1"}
    - {version: 0.43.0, repository: r, tag: "0.43.0"}
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, expirationDate: "2026-07-31T23:59:59+02:00", rulesVersion: 5.0.0}
    - {version: 0.43.0, classification: deprecated, expirationDate: 2026-07-31T23:59:59-05:00, rulesVersion: 5.0.0}
`))
	if err != nil {
		t.Fatal(err)
	}
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
		if got := p.Expired(c.version, mustTime(t, c.at)); got != c.want {
			t.Errorf("Expired(%s, %s) = %v, want %v", c.version, c.at, got, c.want)
		}
	}
}

func TestEngineVersionAndImage(t *testing.T) {
	p, err := LoadFile(writeFile(t, t.TempDir(), "p.yaml", header+`spec:
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
	if err != nil {
		t.Fatal(err)
	}
	if e, err := p.EngineVersion("0.42.1"); err != nil || e != "0.57.0" {
		t.Errorf("0.42.1: %q, %v", e, err)
	}
	if e, err := p.EngineVersion("0.45.0"); err != nil || e != "0.70.0" {
		t.Errorf("0.45.0 (from the profile): %q, %v", e, err)
	}
	if _, err := p.EngineVersion("0.36.2"); !errors.Is(err, ErrUnknownEngine) {
		t.Errorf("0.36.2: %v", err)
	}
	if _, err := p.EngineVersion("0.40.0"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("0.40.0: %v", err)
	}
	if img, _ := p.Image("0.45.0"); img != "registry.example/falco" {
		t.Errorf("empty tag: %q", img)
	}
	if _, err := p.Image("0.1.0"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("unknown image: %v", err)
	}
	var got []string
	for _, v := range p.Versions() {
		got = append(got, v.Version)
	}
	if want := []string{"0.36.2", "0.42.1", "0.45.0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v (semver, not text)", got, want)
	}
}

func TestBuiltinEngineTable(t *testing.T) {
	want := map[string]string{
		"0.37.1": "0.31.0", "0.38.2": "0.40.0", "0.39.0": "0.43.0", "0.40.0": "0.46.0",
		"0.41.3": "0.50.0", "0.42.1": "0.57.0", "0.43.0": "0.58.0", "0.44.1": "0.62.0",
	}
	for v, e := range want {
		if got, ok := BuiltinEngineVersion(v); !ok || got != e {
			t.Errorf("%s: %q, %v; want %s", v, got, ok, e)
		}
	}
	for _, v := range []string{"0.36.0", "0.45.0", "x"} {
		if got, ok := BuiltinEngineVersion(v); ok {
			t.Errorf("%s: %q, want unknown", v, got)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Versions()); got != 2 {
		t.Fatalf("versions = %d, want 2", got)
	}
	if good.APIVersion != "" {
		t.Fatal("FromObjects changed its input")
	}
	bad := good.DeepCopy()
	bad.Name = "bad"
	bad.Spec.Versions.Falco[0].ExpirationDate = ptr("2026-07-31T23:59:59")
	bad.Spec.Versions.Falco[0].Classification = "supported"
	_, err = FromObjects(good, bad)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "FalcoProfile/bad:1:1") || !strings.Contains(err.Error(), "expirationDate") {
		t.Fatalf("err = %v, want an invalid expirationDate in FalcoProfile/bad", err)
	}
	if _, err := FromObjects(); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("no objects: err = %v", err)
	}
}
