package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/falcops/falcops/internal/sharedtest"
)

const repoProfiles = "../../profiles"

// matrixVersions decodes a matrix and returns "version/classification/engine/image" per entry.
func matrixVersions(t *testing.T, out string) []string {
	t.Helper()
	var m struct {
		Include []matrixEntry `json:"include"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not a matrix: %v\n%s", err, out)
	}
	var got []string
	for _, e := range m.Include {
		got = append(got, e.Falco+"/"+e.Classification+"/"+e.Engine+"/"+e.Image)
	}
	return got
}

func TestProfileMatrix(t *testing.T) {
	dir := t.TempDir()
	badDate := filepath.Join(dir, "bad-date.yaml")
	must(t, os.WriteFile(badDate, []byte(`apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: bad}
spec:
  images:
    falco: [{version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}]
  versions:
    falco:
    - {version: 0.42.1, classification: deprecated, expirationDate: "2026-07-31T23:59:59", rulesVersion: 5.0.0}
`), 0o644))
	unknownField := filepath.Join(dir, "unknown-field.yaml")
	must(t, os.WriteFile(unknownField, []byte(`apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: bad}
spec:
  versions:
    falco:
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0, image: falcosecurity/falco}
`), 0o644))
	noEngine := filepath.Join(dir, "no-engine.yaml")
	must(t, os.WriteFile(noEngine, []byte(`apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: future}
spec:
  images:
    falco: [{version: 0.45.0, repository: falcosecurity/falco, tag: 0.45.0}]
  versions:
    falco:
    - {version: 0.45.0, classification: preview, rulesVersion: 5.0.0}
`), 0o644))
	expired := filepath.Join(dir, "expired.yaml")
	must(t, os.WriteFile(expired, []byte(`apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: old}
spec:
  images:
    falco: [{version: 0.40.0, repository: falcosecurity/falco, tag: 0.40.0}]
  versions:
    falco:
    - {version: 0.40.0, classification: deprecated, expirationDate: "2026-07-31T23:59:59Z", rulesVersion: 3.2.0}
`), 0o644))
	emptyDir := t.TempDir()

	all := []string{
		"0.41.3/deprecated/0.50.0/falcosecurity/falco:0.41.3",
		"0.42.1/supported/0.57.0/falcosecurity/falco:0.42.1",
		"0.43.0/supported/0.58.0/falcosecurity/falco:0.43.0",
		"0.44.1/preview/0.62.0/falcosecurity/falco:0.44.1",
	}
	cases := []struct {
		name       string
		args       []string
		code       int
		want       []string // matrix entries, when code is 0
		wantStderr []string
	}{
		{name: "repository profile before 0.41.3 expires", args: []string{"--profile", repoProfiles, "--at", "2026-08-01T00:00:00Z"}, want: all},
		{name: "the file itself", args: []string{"--profile", repoProfiles + "/falco.yaml", "--at", "2027-02-28T23:59:59Z"}, want: all},
		{name: "expired version excluded", args: []string{"--profile", repoProfiles, "--at", "2027-03-01T00:00:00Z"}, want: all[1:]},
		{name: "zone offset: last second", args: []string{"--profile", repoProfiles, "--at", "2027-03-01T00:59:59+01:00"}, want: all},
		{name: "zone offset: one second later", args: []string{"--profile", repoProfiles, "--at", "2027-03-01T01:00:00+01:00"}, want: all[1:]},
		{name: "negative zone offset", args: []string{"--profile", repoProfiles, "--at", "2027-02-28T19:00:00-05:00"}, want: all[1:]},
		{name: "default time is now", args: []string{"--profile", repoProfiles}, code: exitOK},
		{name: "bad date in profile", args: []string{"--profile", badDate}, code: exitInput,
			wantStderr: []string{badDate + `:9:69: error: Falco 0.42.1: expirationDate "2026-07-31T23:59:59" is not an RFC 3339 date-time with a time zone`}},
		{name: "unknown field in profile", args: []string{"--profile", unknownField}, code: exitInput,
			wantStderr: []string{unknownField + `:7:73: error: unknown field "image" in spec.versions.falco[0]`}},
		{name: "unknown engine", args: []string{"--profile", noEngine}, code: exitInput,
			wantStderr: []string{"unknown Falco engine version of Falco 0.45.0 (" + noEngine + ":9:7): set engineVersion in the profile"}},
		{name: "everything expired", args: []string{"--profile", expired, "--at", "2026-08-01T00:00:00Z"}, code: exitInput,
			wantStderr: []string{"no Falco version in the profile is unexpired at 2026-08-01T00:00:00Z"}},
		{name: "two profiles merge", args: []string{"--profile", expired, "--profile", repoProfiles, "--at", "2026-07-01T00:00:00Z"},
			want: append([]string{"0.40.0/deprecated/0.46.0/falcosecurity/falco:0.40.0"}, all...)},
		{name: "missing profile", args: []string{"--profile", filepath.Join(dir, "nope.yaml")}, code: exitUsage,
			wantStderr: []string{"nope.yaml: no such file or directory"}},
		{name: "folder without profiles", args: []string{"--profile", emptyDir}, code: exitUsage, wantStderr: []string{"no *.yaml file"}},
		{name: "--at without zone", args: []string{"--profile", repoProfiles, "--at", "2027-03-01T00:00:00"}, code: exitUsage,
			wantStderr: []string{"RFC 3339 date-time with a time zone"}},
		{name: "bad output format", args: []string{"--profile", repoProfiles, "-o", "yaml"}, code: exitUsage},
		{name: "unknown flag", args: []string{"--profiles", repoProfiles}, code: exitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append([]string{"profile", "matrix"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, stderr)
			}
			for _, w := range c.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if c.code != exitOK {
				if out != "" {
					t.Errorf("stdout on failure: %s", out)
				}
				return
			}
			got := matrixVersions(t, out)
			if c.want != nil && !reflect.DeepEqual(got, c.want) {
				t.Errorf("matrix %v\nwant   %v", got, c.want)
			}
		})
	}
}

func TestProfileMatrixOutput(t *testing.T) {
	code, out, _ := runCLI(t, "profile", "matrix", "--profile", repoProfiles, "--at", "2027-03-01T00:00:00Z")
	want := `{"include":[{"falco":"0.42.1","image":"falcosecurity/falco:0.42.1","engine":"0.57.0","classification":"supported"},` +
		`{"falco":"0.43.0","image":"falcosecurity/falco:0.43.0","engine":"0.58.0","classification":"supported"},` +
		`{"falco":"0.44.1","image":"falcosecurity/falco:0.44.1","engine":"0.62.0","classification":"preview"}]}` + "\n"
	if code != exitOK || out != want {
		t.Errorf("exit %d\ngot  %s\nwant %s", code, out, want)
	}
	code, gh, _ := runCLI(t, "profile", "matrix", "--profile", repoProfiles, "--at", "2027-03-01T00:00:00Z", "-o", "github")
	if code != exitOK || gh != "matrix="+want {
		t.Errorf("-o github: exit %d, %q", code, gh)
	}
	if strings.Count(gh, "\n") != 1 {
		t.Error("-o github must be one line for $GITHUB_OUTPUT")
	}
}

// TestProfileMatrixGardenerExample: Gardener's own profile loads unchanged;
// on 2026-08-01 its three deprecated versions have expired.
func TestProfileMatrixGardenerExample(t *testing.T) {
	// The Gardener extension's own profile (shared reference).
	gardenerProfile := sharedtest.Path(t, "reference/gardener-falco-profile.yaml")
	code, out, stderr := runCLI(t, "profile", "matrix", "--profile", gardenerProfile, "--at", "2026-07-31T23:59:59Z")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := matrixVersions(t, out); len(got) != 5 {
		t.Errorf("before expiry: %v", got)
	}
	_, out, _ = runCLI(t, "profile", "matrix", "--profile", gardenerProfile, "--at", "2026-08-01T00:00:00Z")
	want := []string{"0.42.1/supported/0.57.0/falcosecurity/falco:0.42.1", "0.44.1/preview/0.62.0/falcosecurity/falco:0.44.1"}
	if got := matrixVersions(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("after expiry: %v, want %v", got, want)
	}
}

// TestProfileDefaultsFromAnyFolder: the default --profile profiles/ is the
// repository's, wherever the command runs in it; outside any repository
// it is missing (exit 2).
func TestProfileDefaultsFromAnyFolder(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "rulesets", "heartbeat"))
	code, out, stderr := runCLI(t, "profile", "matrix", "--at", "2026-07-01T00:00:00Z")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, `"falco":"0.42.1"`)
	t.Chdir(t.TempDir())
	code, _, stderr = runCLI(t, "profile", "matrix")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "profiles")
}

func TestProfileWithoutSubcommand(t *testing.T) {
	if code, _, _ := runCLI(t, "profile"); code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
}
