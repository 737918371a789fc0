package ocitest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/rules"
)

// Ruleset writes a ruleset folder NAME (one marker rule requiring Falco
// engine engine, a semver) at version below a temporary folder and
// returns its path. salt changes the content, and so the digest, without
// changing the version.
func Ruleset(t testing.TB, name, version, engine, salt string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf("name: %s\nversion: %s\nfiles: [%s_rules.yaml]\n", name, version, name)
	ruleFile := fmt.Sprintf(`- required_engine_version: %s

- rule: %s marker %s
  desc: A marker program ran (test rule, %s).
  condition: evt.type = execve and proc.name = falcops-marker
  output: marker ran (proc.name=%%proc.name)
  priority: INFO
`, engine, name, version, salt)
	for file, data := range map[string]string{rules.ManifestFile: manifest, name + "_rules.yaml": ruleFile} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// RulesetArtifact packages Ruleset(t, name, version, engine, salt).
func RulesetArtifact(t testing.TB, name, version, engine, salt string) *artifacts.Artifact {
	t.Helper()
	return Package(t, Ruleset(t, name, version, engine, salt), artifacts.PackageOptions{})
}

// Package validates the ruleset folder dir and packages it with opts.
func Package(t testing.TB, dir string, opts artifacts.PackageOptions) *artifacts.Artifact {
	t.Helper()
	rd, fs := rules.ReadManifest(dir)
	if rd == nil || fs.Errors() > 0 {
		t.Fatalf("reading %s: %v", dir, fs)
	}
	rs, fs := rules.LoadRuleset(rd, rules.Options{})
	if fs.Errors() > 0 {
		t.Fatalf("loading %s: %v", dir, fs)
	}
	a, err := artifacts.Package(rd, rs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var versionLine = regexp.MustCompile(`(?m)^version: .*$`)

// Variant copies the ruleset folder src to a temporary folder with the
// manifest's version replaced and, unless variant is empty, a comment naming
// it appended to every rules file (so the content and digest differ), and
// returns the copy's path.
func Variant(t testing.TB, src, version, variant string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Name() == rules.ManifestFile:
			data = versionLine.ReplaceAll(data, []byte("version: "+version))
		case variant != "" && strings.HasSuffix(e.Name(), ".yaml"):
			data = append(data, []byte("\n# variant "+variant+"\n")...)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
