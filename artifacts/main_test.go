package artifacts

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/falcops/falcops/rules"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// helperEnv switches the test binary into a helper that packages the ruleset
// folder named by the variable and prints the digests (see TestMain).
const helperEnv = "FALCOPS_ARTIFACTS_PACKAGE_DIR"

// testOpts are the package options of every golden test.
var testOpts = PackageOptions{Source: "https://github.com/falcops/falcops", Revision: "0123456789abcdef0123456789abcdef01234567"}

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		a, err := packageDir(dir, testOpts)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprint(os.Stdout, digestLines(a))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// packageDir reads, loads and packages a ruleset folder.
func packageDir(dir string, opts PackageOptions) (*Artifact, error) {
	rd, fs := rules.ReadManifest(dir)
	if rd == nil || fs.Errors() > 0 {
		return nil, fmt.Errorf("%s: %w", dir, fs)
	}
	rs, fs := rules.LoadRuleset(rd, rules.Options{})
	if fs.Errors() > 0 {
		return nil, fmt.Errorf("%s: %w", dir, fs)
	}
	return Package(rd, rs, opts)
}

func mustPackageDir(t *testing.T, dir string) *Artifact {
	t.Helper()
	a, err := packageDir(dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func digestLines(a *Artifact) string {
	return fmt.Sprintf("manifest %s\nconfig %s\nlayer %s\n", a.ManifestDigest, a.ConfigDescriptor.Digest, a.LayerDescriptor.Digest)
}

// packageInSubprocess runs this test binary as a helper that packages dir in
// a fresh process.
func packageInSubprocess(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper process: %v: %s", err, stderr.String())
	}
	return string(out)
}
