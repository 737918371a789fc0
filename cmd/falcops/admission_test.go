package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/falcops/falcops/internal/admissiontest"
)

// TestAdmissionReviewCases answers every admission case through the
// command, from files, as a user asks "why was my shoot refused?": the
// same answers as the handlers give (webhooks.TestCases).
func TestAdmissionReviewCases(t *testing.T) {
	for _, c := range admissiontest.Load(t) {
		t.Run(c.Title(), func(t *testing.T) {
			dir := t.TempDir()
			write := func(name string, data []byte) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, data, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			obj := c.ObjectJSON(t)
			args := []string{"admission", "review", "--shoot", write("object.json", obj), "--webhook", c.Which(), "-o", "json",
				"--user", c.Username(), "--controller-user", admissiontest.ControllerUser}
			if old := c.OldJSON(t); old != nil {
				args = append(args, "--old", write("old.json", old))
			}
			profiles := filepath.Join(dir, "profiles")
			if err := os.Mkdir(profiles, 0o700); err != nil {
				t.Fatal(err)
			}
			if !c.NoProfile {
				data, err := os.ReadFile(admissiontest.ProfilePath())
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(profiles, "falco.yaml"), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			args = append(args, "--profiles", profiles)
			if g := c.GardenYAML(t); len(g) > 0 {
				args = append(args, "--garden", write("garden.yaml", g))
			}
			if op := c.OperatorYAML(t); op != nil {
				args = append(args, "--config", write("operator.yaml", op))
			}
			for _, b := range c.BasePaths() {
				args = append(args, "--base", b)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			var ar admissionv1.AdmissionReview
			if err := json.Unmarshal(stdout.Bytes(), &ar); err != nil || ar.Response == nil {
				t.Fatalf("exit %d, no response: %v\nstdout: %s\nstderr: %s", code, err, stdout.String(), stderr.String())
			}
			wantCode := exitInput
			if c.Want.Allowed {
				wantCode = exitOK
			}
			if code != wantCode {
				t.Fatalf("exit %d, want %d (stderr %s)", code, wantCode, stderr.String())
			}
			patched := obj
			if len(ar.Response.Patch) > 0 {
				p, err := jsonpatch.DecodePatch(ar.Response.Patch)
				if err != nil {
					t.Fatal(err)
				}
				if patched, err = p.Apply(obj); err != nil {
					t.Fatal(err)
				}
			}
			c.Check(t, *ar.Response, patched)
		})
	}
}

// TestAdmissionReviewText is the default output a user reads.
func TestAdmissionReviewText(t *testing.T) {
	dir := t.TempDir()
	shoot := filepath.Join(dir, "shoot.yaml")
	if err := os.WriteFile(shoot, []byte(`apiVersion: core.gardener.cloud/v1beta1
kind: Shoot
metadata: {name: prod, namespace: garden-team}
spec:
  extensions:
  - type: shoot-falco-service
    providerConfig:
      apiVersion: falco.extensions.gardener.cloud/v1alpha1
      kind: FalcoServiceConfig
      destinations: [{name: logging}, {name: custom, resourceSecretName: hook}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"admission", "review", "--shoot", shoot, "--profiles", admissiontest.ProfilePath()}, &stdout, &stderr)
	want := "denied\nlogging and custom destinations cannot be used together\n"
	if code != exitInput || !strings.HasPrefix(stdout.String(), want) {
		t.Fatalf("exit %d, stdout:\n%s\nwant it to start with:\n%s", code, stdout.String(), want)
	}
}

// TestAdmissionReviewFile reads an AdmissionReview from stdin and exits 2
// on a review it cannot decide.
func TestAdmissionReviewFile(t *testing.T) {
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"core.gardener.cloud","version":"v1beta1","kind":"Shoot"},
"operation":"CREATE","userInfo":{"username":"alice"},"object":{"apiVersion":"core.gardener.cloud/v1beta1","kind":"Shoot","metadata":{"name":"a","namespace":"garden-team"},
"spec":{"extensions":[{"type":"shoot-falco-service","providerConfig":{"apiVersion":"falco.extensions.gardener.cloud/v1alpha1","kind":"FalcoServiceConfig","falcoVersion":"0.42.1"}}]}}}}`
	cmd := newRootCmd(&bytes.Buffer{}, &bytes.Buffer{})
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetIn(strings.NewReader(review))
	cmd.SetArgs([]string{"admission", "review", "--file", "-", "--profiles", admissiontest.ProfilePath(), "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(stdout.Bytes(), &ar); err != nil || ar.Response == nil || ar.Response.UID != "u1" || len(ar.Response.Patch) == 0 {
		t.Fatalf("response %s: %v", stdout.String(), err)
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"admission", "review", "--file", "/nonexistent.json", "--profiles", admissiontest.ProfilePath()}, &out, &errOut); code != exitInput {
		t.Fatalf("missing file: exit %d, want 1", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Shoot"},"object":"not an object"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"admission", "review", "--file", bad, "--profiles", admissiontest.ProfilePath(), "-o", "json"}, &out, &errOut); code != exitUndecided {
		t.Fatalf("undecidable review: exit %d, want 2; stdout %s", code, out.String())
	}
}
