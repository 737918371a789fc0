package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/falcops/falcops/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestValidateFormats(t *testing.T) {
	for _, format := range []string{"text", "json", "github", "sarif"} {
		t.Run(format, func(t *testing.T) {
			code, out, _ := runCLI(t, "validate", "testdata/validate/bad-ruleset", "-o", format)
			if code != exitInput {
				t.Fatalf("exit code %d, want %d", code, exitInput)
			}
			golden(t, "validate."+format, out)
		})
	}
}

// TestFindingFormats pins every format of the commands that report
// findings: validate (above), test and profile validate.
func TestFindingFormats(t *testing.T) {
	commands := map[string][]string{
		"test":             {"test", "testdata/test/demo"},
		"profile-validate": {"profile", "validate", "--profile", "testdata/profile/falco.yaml", "--at", "2027-06-01T00:00:00Z"},
	}
	for name, args := range commands {
		for _, format := range []string{"text", "json", "github", "sarif"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				code, out, errOut := runCLI(t, append(args, "-o", format)...)
				if code != exitInput {
					t.Fatalf("exit code %d, want %d\n%s", code, exitInput, errOut)
				}
				golden(t, name+"."+format, out)
			})
		}
	}
}

func TestValidateTextNamesPositions(t *testing.T) {
	_, out, _ := runCLI(t, "validate", "testdata/validate/bad-ruleset")
	for _, want := range []string{
		"testdata/validate/bad-ruleset/rules.yaml:8:36: error: unknown field 'proc.nmae' for source 'syscall' (rule 'Shell with unknown field') [LOAD_ERR_COMPILE_CONDITION]",
		"testdata/validate/bad-ruleset/rules.yaml:3:3: warning: Macro not referred to by any other rule/macro (macro 'unused_macro') [LOAD_UNUSED_MACRO]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestValidateExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	warn := filepath.Join(dir, "warn.yaml")
	must(t, os.WriteFile(good, []byte("- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o %proc.name\n  priority: INFO\n"), 0o644))
	must(t, os.WriteFile(warn, []byte("- list: unused\n  items: [a]\n"), 0o644))
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"validate", good}, exitOK},
		{[]string{"validate", warn}, exitOK},
		{[]string{"validate", "--strict", warn}, exitInput},
		{[]string{"validate", "testdata/validate/bad-ruleset"}, exitInput},
		{[]string{"validate", filepath.Join(dir, "missing.yaml")}, exitInput},
		{[]string{"validate", "--engine-version", "x", good}, exitUsage},
		{[]string{"validate", "-o", "xml", good}, exitUsage},
		{[]string{"validate", "--no-such-flag"}, exitUsage},
		{[]string{"validate", "--engine-version", "0.26.0", good}, exitOK},
	}
	for _, c := range cases {
		if code, out, errOut := runCLI(t, c.args...); code != c.want {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args, code, c.want, out, errOut)
		}
	}
}

func TestValidateRepositoryRulesets(t *testing.T) {
	sharedtest.UpstreamRulesets(t) // the tuning rulesets depend on upstream's
	code, out, errOut := runCLI(t, "validate", "--strict", "../..")
	if code != exitOK {
		t.Fatalf("the repository's rulesets must validate without findings: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "ruleset heartbeat") {
		t.Errorf("heartbeat ruleset not validated:\n%s", out)
	}
}

func TestSARIFSchema(t *testing.T) {
	path := os.Getenv("FALCOPS_SARIF_SCHEMA")
	if _, err := os.Stat(path); path == "" || err != nil {
		sharedtest.SkipOrFail(t, sharedtest.RequireEnv, "SARIF 2.1.0 schema not found at %q (run `make test`, which fetches it with hack/sarif-schema.sh)", path)
	}
	c := jsonschema.NewCompiler()
	schema, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"test", "testdata/test/demo"},
		{"profile", "validate", "--profile", "testdata/profile/falco.yaml", "--at", "2027-06-01T00:00:00Z"},
	} {
		_, out, _ := runCLI(t, append(args, "-o", "sarif")...)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Fatalf("falcops %s -o sarif does not match the schema: %v", args[0], err)
		}
	}
	_, out, _ := runCLI(t, "validate", "testdata/validate/bad-ruleset", "-o", "sarif")
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("SARIF output does not match the schema: %v", err)
	}
	// A broken document must fail, so the check itself is proven to work.
	var broken map[string]any
	must(t, json.Unmarshal([]byte(out), &broken))
	broken["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)["level"] = "fatal"
	b, _ := json.Marshal(broken)
	doc, _ = jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if schema.Validate(doc) == nil {
		t.Fatal("schema accepted an invalid level")
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
