package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// decideProfile writes a profile from specs "VERSION CLASSIFICATION
// [EXPIRATION]" and returns its path.
func decideProfile(t *testing.T, specs ...string) string {
	t.Helper()
	var images, versions strings.Builder
	for _, s := range specs {
		f := strings.Fields(s)
		fmt.Fprintf(&images, "    - {version: %s, repository: falcosecurity/falco, tag: %s}\n", f[0], f[0])
		exp := ""
		if len(f) > 2 {
			exp = fmt.Sprintf(", expirationDate: %q", f[2])
		}
		fmt.Fprintf(&versions, "    - {version: %s, classification: %s%s, rulesVersion: 5.0.0, engineVersion: 0.58.0}\n", f[0], f[1], exp)
	}
	path := filepath.Join(t.TempDir(), "profile.yaml")
	must(t, os.WriteFile(path, []byte(`apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: test}
spec:
  images:
    falco:
`+images.String()+`  versions:
    falco:
`+versions.String()), 0o644))
	return path
}

// decideGardener mirrors Gardener's profile at b728b8e for decisions.
var decideGardener = []string{
	"0.41.3 deprecated 2027-02-28T23:59:59Z",
	"0.42.1 supported",
	"0.43.0 deprecated 2027-06-30T23:59:59Z",
	"0.44.1 preview",
}

func TestProfileResolveJSON(t *testing.T) {
	p := decideProfile(t, decideGardener...)
	const t0 = "2026-11-25T00:00:00Z"
	cases := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"pinned", []string{"--current", "0.41.3", "--at", t0}, map[string]any{"version": "0.41.3", "reason": "unchanged", "downgrade": false}},
		{"auto-update", []string{"--current", "0.41.3", "--auto-update", "--at", t0}, map[string]any{"version": "0.42.1", "reason": "auto-update", "downgrade": false}},
		{"D1 preview stays", []string{"--current", "0.44.1", "--auto-update", "--at", t0}, map[string]any{"version": "0.44.1", "reason": "unchanged", "downgrade": false}},
		{"D1 newer deprecated stays", []string{"--current", "0.43.0", "--auto-update", "--at", t0}, map[string]any{"version": "0.43.0", "reason": "unchanged", "downgrade": false}},
		{"exactly at expiry", []string{"--current", "0.41.3", "--at", "2027-02-28T23:59:59Z"}, map[string]any{"version": "0.41.3", "reason": "unchanged", "downgrade": false}},
		{"expired, +02:00", []string{"--current", "0.41.3", "--at", "2027-03-01T02:00:00+02:00"}, map[string]any{"version": "0.42.1", "reason": "forced-expired", "downgrade": false}},
		{"removed below", []string{"--current", "0.40.0", "--at", t0, "-o", "json"}, map[string]any{"version": "0.41.3", "reason": "forced-removed", "downgrade": false}},
		{"removed above: downgrade", []string{"--current", "0.44.0", "--at", t0}, map[string]any{"version": "0.43.0", "reason": "forced-removed", "downgrade": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append([]string{"profile", "resolve", "--profile", p}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if e, ok := got["explanation"].(string); !ok || e == "" {
				t.Errorf("explanation missing: %s", out)
			}
			delete(got, "explanation")
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestProfileResolveText(t *testing.T) {
	p := decideProfile(t, decideGardener...)
	code, out, stderr := runCLI(t, "profile", "resolve", "--profile", p, "--current", "0.44.0", "--at", "2026-11-25T00:00:00Z", "-o", "text")
	if code != 0 || !strings.Contains(out, "version: 0.43.0\nreason: forced-removed\ndowngrade: true\n") || !strings.Contains(out, "downgrading") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
}

func TestProfileResolveExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := decideProfile(t, decideGardener...)
	allExpired := decideProfile(t, "0.41.0 deprecated 2026-01-01T00:00:00Z", "0.42.0 preview")
	data, err := os.ReadFile(good)
	must(t, err)
	badDate := filepath.Join(dir, "bad.yaml")
	must(t, os.WriteFile(badDate, []byte(strings.Replace(string(data), "2027-02-28T23:59:59Z", "2027-02-28T23:59:59", 1)), 0o644))
	const t0 = "2026-11-25T00:00:00Z"
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"invalid profile", []string{"--profile", badDate, "--current", "0.41.3", "--at", t0}, 1, "expirationDate"},
		{"no candidate", []string{"--profile", allExpired, "--current", "0.41.0", "--at", t0}, 1, "no candidate"},
		{"removed, nothing left", []string{"--profile", allExpired, "--current", "0.40.0", "--at", t0, "--auto-update"}, 1, "no candidate"},
		{"missing --current", []string{"--profile", good, "--at", t0}, 2, "--current is required"},
		{"bad --current", []string{"--profile", good, "--current", "v0.42", "--at", t0}, 2, "semantic version"},
		{"bad --at", []string{"--profile", good, "--current", "0.42.1", "--at", "2026-11-25T00:00:00"}, 2, "--at"},
		{"bad -o", []string{"--profile", good, "--current", "0.42.1", "-o", "yaml"}, 2, "-o"},
		{"missing profile", []string{"--profile", filepath.Join(dir, "nope.yaml"), "--current", "0.42.1"}, 2, "nope.yaml"},
		{"unknown flag", []string{"--profile", good, "--current", "0.42.1", "--bogus"}, 2, "bogus"},
		{"argument", []string{"--profile", good, "--current", "0.42.1", "extra"}, 2, "extra"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append([]string{"profile", "resolve"}, c.args...)...)
			if code != c.code || !strings.Contains(stderr, c.err) {
				t.Errorf("exit %d, want %d; stderr must contain %q:\n%s", code, c.code, c.err, stderr)
			}
			if out != "" {
				t.Errorf("stdout on error: %s", out)
			}
		})
	}
}

func TestProfileDecideValidate(t *testing.T) {
	p := decideProfile(t, "0.40.0 deprecated 2026-01-01T00:00:00Z", "0.41.0 deprecated", "0.42.0 supported 2026-06-01T00:00:00Z")
	code, out, stderr := runCLI(t, "profile", "validate", "--profile", p, "--at", "2026-05-01T00:00:00Z")
	if code != 0 || !strings.Contains(out, "warning: Falco 0.41.0 is deprecated without expirationDate") || !strings.Contains(out, "info: Falco 0.40.0 expired") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runCLI(t, "profile", "validate", "--profile", p, "--at", "2026-06-01T00:00:01Z")
	if code != 1 || !strings.Contains(out, "error: no supported Falco version") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	line := regexp.MustCompile(`^` + regexp.QuoteMeta(p) + `:[1-9][0-9]*:[1-9][0-9]*: (error|warning|info): `)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !line.MatchString(l) {
			t.Errorf("not file:line:col: severity: %q", l)
		}
	}
	if code, out, stderr := runCLI(t, "profile", "validate", "--profile", repoProfiles, "--at", "2026-11-25T00:00:00Z"); code != 0 {
		t.Errorf("repository profile: exit %d\n%s%s", code, out, stderr)
	}
	if code, _, _ := runCLI(t, "profile", "validate", "--profile", p, "--at", "yesterday"); code != 2 {
		t.Errorf("bad --at: exit %d", code)
	}
}

func TestProfileDecideList(t *testing.T) {
	p := decideProfile(t, "0.40.0 deprecated 2026-11-22T00:00:00Z", "0.41.0 deprecated 2027-02-28T00:00:00Z", "0.42.0 supported", "0.43.0 preview 2026-11-25T05:00:00+02:00")
	code, out, stderr := runCLI(t, "profile", "list", "--profile", p, "--at", "2026-11-25T00:00:00Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"expired 3d ago", "in 95d", "never", "in 3h", "0.58.0", "5.0.0", "falcosecurity/falco:0.42.0"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	versionOrder := func(out string) []string {
		var vs []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			vs = append(vs, strings.Fields(l)[0])
		}
		return vs
	}
	if got := versionOrder(out); !reflect.DeepEqual(got, []string{"0.40.0", "0.41.0", "0.42.0", "0.43.0"}) {
		t.Errorf("list order %v", got)
	}
	code, out, stderr = runCLI(t, "profile", "timeline", "--profile", p, "--at", "2026-11-25T00:00:00Z")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := versionOrder(out); !reflect.DeepEqual(got, []string{"0.40.0", "0.43.0", "0.41.0", "0.42.0"}) {
		t.Errorf("timeline order %v\n%s", got, out)
	}
}
