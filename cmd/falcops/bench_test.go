package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/internal/clitest"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
	"github.com/falcops/falcops/rules"
)

const benchRulesets = 50

// generateRulesets writes n small valid rulesets under root/rulesets.
func generateRulesets(b *testing.B, root string, n int) {
	b.Helper()
	for i := range n {
		dir := filepath.Join(root, "rulesets", fmt.Sprintf("bench-%02d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		manifest := fmt.Sprintf("name: bench-%02d\nversion: 1.0.%d\nfiles: [rules.yaml]\n", i, i)
		rules := fmt.Sprintf(`- required_engine_version: 0.31.0
- list: bench_%[1]d_shells
  items: [bash, sh, zsh]
- macro: bench_%[1]d_spawned
  condition: evt.type in (execve, execveat) and evt.dir = <
- rule: Bench rule %[1]d
  desc: generated rule %[1]d
  condition: bench_%[1]d_spawned and proc.name in (bench_%[1]d_shells) and container.id != host
  output: shell %%proc.name in %%container.id (rule %[1]d)
  priority: WARNING
`, i)
		for name, body := range map[string]string{"ruleset.yaml": manifest, "rules.yaml": rules} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPublish50 is `falcops publish` of 50 rulesets into an empty
// registry: validation, packaging, push, tags and cosign signing.
func BenchmarkPublish50(b *testing.B) {
	root := b.TempDir()
	generateRulesets(b, root, benchRulesets)
	priv, _, err := oci.GenerateKeyPair(b.TempDir(), []byte("pw"))
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv("COSIGN_PASSWORD", "pw")
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		host := ocitest.New(b).Host
		b.StartTimer()
		var out bytes.Buffer
		if code := run([]string{"publish", root, "--registry", host + "/bench", "--key", priv, "--plain-http", "--index", ""}, &out, &out); code != 0 {
			b.Fatalf("publish: exit %d\n%s", code, out.String())
		}
	}
}

// BenchmarkOrasPush50 is the baseline: the oras CLI pushing the same 50
// artifacts' config and layer files (no validation, no signing).
func BenchmarkOrasPush50(b *testing.B) {
	oras := clitest.Tool(b, "oras")
	root := b.TempDir()
	generateRulesets(b, root, benchRulesets)
	dirs, fs := rules.Discover(root)
	if fs.Errors() > 0 {
		b.Fatal(fs)
	}
	type files struct{ dir, name, version string }
	var all []files
	for _, d := range dirs {
		a := ocitest.Package(b, d.Dir, artifacts.PackageOptions{})
		out := filepath.Join(b.TempDir(), d.Manifest.Name)
		must(b, os.MkdirAll(out, 0o755))
		must(b, os.WriteFile(filepath.Join(out, "config.json"), a.ConfigBytes, 0o644))
		must(b, os.WriteFile(filepath.Join(out, d.Manifest.Name+".tar.gz"), a.LayerBytes, 0o644))
		all = append(all, files{out, d.Manifest.Name, d.Manifest.Version})
	}
	env := append(os.Environ(), "HOME="+b.TempDir())
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		host := ocitest.New(b).Host
		b.StartTimer()
		for _, f := range all {
			cmd := exec.Command(oras, "push", "--plain-http", host+"/bench/"+f.name+":"+f.version,
				"--config", "config.json:"+artifacts.MediaTypeRulesfileConfig,
				f.name+".tar.gz:"+artifacts.MediaTypeRulesfileLayer)
			cmd.Dir, cmd.Env = f.dir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("oras push: %v\n%s", err, out)
			}
		}
	}
}
