package falcops_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goPackage is what `go list -deps -json` says of one package.
type goPackage struct {
	ImportPath   string
	Standard     bool
	Module       *struct{ Path string }
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
}

// listPackages runs `go list -deps -test=false -json ./...` in dir.
func listPackages(t *testing.T, dir string) (module string, pkgs []goPackage) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m").Output()
	if dir != "." {
		cmd := exec.Command("go", "list", "-m")
		cmd.Dir = dir
		out, err = cmd.Output()
	}
	require.NoError(t, err)
	module = strings.TrimSpace(string(out))
	cmd := exec.Command("go", "list", "-deps", "-json", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	require.NoError(t, err, stderr.String())
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	return module, pkgs
}

// rule limits the imports of the module's packages below From (a path
// relative to the module root, "..." for any depth).
type rule struct {
	from string
	// allow, if set, is every module-local path (relative) and external
	// prefix the package may import directly; the standard library is
	// always allowed.
	allow []string
	// deny are prefixes no package matched by from may import
	// (module-local ones relative); transitive extends that to every
	// package it depends on.
	deny       []string
	transitive bool
	why        string
}

// testSupport are the packages made for tests: only _test.go files (and
// other test support) import them.
var testSupport = []string{"internal/testenv", "internal/clitest", "internal/sharedtest", "oci/ocitest", "gitrepo/gitrepotest", "agent/agenttest"}

// rules is DESIGN.md's table of who may import what.
var rules = []rule{
	{from: "diag", allow: []string{"go.yaml.in/yaml/v3"}, why: "diag is the leaf every loader shares"},
	{from: "api/...", allow: []string{"api/", "k8s.io/apimachinery/", "k8s.io/api/", "sigs.k8s.io/json"}, why: "the API types depend on apimachinery only"},
	{from: "rules/...", allow: []string{"rules/", "diag", "go.yaml.in/yaml/v3", "github.com/Masterminds/semver/v3"}, why: "rules/ is the language; it knows nothing above it"},
	{from: "lifecycle/...", allow: []string{"lifecycle/", "api/profile/", "diag", "go.yaml.in/yaml/v3", "github.com/Masterminds/semver/v3"}, why: "lifecycle decides, without Git or Kubernetes clients"},
	{from: "rollout/...", deny: []string{"sigs.k8s.io/controller-runtime", "k8s.io/client-go"}, transitive: true, why: "rollout is pure: no controller-runtime, no client-go"},
	{from: "artifacts/...", allow: []string{"artifacts/", "rules/", "lifecycle/", "diag", "go.yaml.in/yaml/v3", "github.com/opencontainers/"}, why: "artifacts is pure packaging"},
	{from: "agent", allow: []string{"agent/", "secrets", "artifacts/", "rules/", "lifecycle/", "diag", "go.yaml.in/yaml/v3", "github.com/opencontainers/", "github.com/Masterminds/semver/v3"}, why: "the agent in the Falco pod is small: it swaps files and runs falcoctl, nothing of the garden"},
	{from: "secrets", allow: []string{"secrets"}, why: "certificates and tokens need the standard library only"},
	{from: "customrules", allow: []string{"customrules", "rules/", "diag", "go.yaml.in/yaml/v3"}, why: "custom rules are read and validated with the rules language only"},
	{from: "deploy", deny: []string{"sigs.k8s.io/controller-runtime", "k8s.io/client-go", "oci", "github.com/go-git/"}, transitive: true, why: "deploy is pure rendering: no clients, no registry, no Git"},
	{from: "cmd/falcops-agent", allow: []string{"agent", "version"}, why: "the agent binary is the agent package and a version line"},
	{from: "...", deny: []string{"github.com/go-git/go-git/v5"}, why: "only gitrepo/ imports go-git"},
	{from: "...", deny: []string{"controllers/"}, why: "only cmd/ imports controllers/"},
	{from: "...", deny: []string{"sigs.k8s.io/controller-runtime"}, why: "only controllers/, webhooks/, dashboard/, devenv/ (its API servers are envtest's), internal/reconcile and cmd/ import controller-runtime"},
	{from: "...", deny: testSupport, why: "test-support packages are imported from _test.go files only"},
}

// exempt says which packages a deny rule does not apply to.
var exempt = map[string][]string{
	"github.com/go-git/go-git/v5":    {"gitrepo/..."},
	"controllers/":                   {"cmd/...", "controllers/..."},
	"sigs.k8s.io/controller-runtime": {"cmd/...", "controllers/...", "webhooks/...", "dashboard/...", "devenv", "internal/reconcile", "internal/scheme", "internal/testenv", "internal/admissiontest"},
	"internal/testenv":               testSupportGlobs(),
	"internal/clitest":               testSupportGlobs(),
	"internal/sharedtest":            testSupportGlobs(),
	"oci/ocitest":                    testSupportGlobs(),
	"gitrepo/gitrepotest":            testSupportGlobs(),
}

func testSupportGlobs() []string {
	out := make([]string, len(testSupport))
	for i, p := range testSupport {
		out[i] = p + "/..."
	}
	return out
}

// matches reports whether rel (a module-relative package path) is below
// pattern ("x/..." matches x and below, "..." everything).
func matches(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// hasPrefix matches an import against a module-relative or external
// prefix; a prefix without a trailing slash matches that package and below.
func hasPrefix(imp, prefix string) bool {
	p := strings.TrimSuffix(prefix, "/")
	return imp == p || strings.HasPrefix(imp, p+"/")
}

// violations checks every package of module against the rules.
func violations(module string, pkgs []goPackage) []string {
	local := func(imp string) (string, bool) {
		if imp == module {
			return ".", true
		}
		rel, ok := strings.CutPrefix(imp, module+"/")
		return rel, ok
	}
	std := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			std[p.ImportPath] = true
		}
	}
	var out []string
	for _, p := range pkgs {
		if p.Module == nil || p.Module.Path != module {
			continue
		}
		rel, _ := local(p.ImportPath)
		for _, r := range rules {
			if !matches(r.from, rel) {
				continue
			}
			if r.allow != nil {
				for _, imp := range p.Imports {
					if std[imp] {
						continue
					}
					name := imp
					if l, ok := local(imp); ok {
						name = l
					}
					if !slices.ContainsFunc(r.allow, func(a string) bool { return hasPrefix(name, a) }) {
						out = append(out, fmt.Sprintf("%s imports %s: %s", rel, imp, r.why))
					}
				}
			}
			for _, d := range r.deny {
				if slices.ContainsFunc(exempt[d], func(g string) bool { return matches(g, rel) }) {
					continue
				}
				deps := p.Imports
				if r.transitive {
					deps = p.Deps
				}
				for _, dep := range deps {
					name := dep
					if l, ok := local(dep); ok {
						name = l
					}
					if hasPrefix(name, d) {
						via := "transitively"
						if slices.Contains(p.Imports, dep) {
							via = "directly"
						}
						out = append(out, fmt.Sprintf("%s depends on %s (%s): %s", rel, dep, via, r.why))
						break
					}
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestImportRules fails on any import DESIGN.md's layout table forbids.
func TestImportRules(t *testing.T) {
	module, pkgs := listPackages(t, ".")
	assert.Empty(t, violations(module, pkgs))
}

// TestImportRulesCatchViolations proves the check on a module of its own
// whose rules/ package imports internal/ and controllers/, and whose
// rollout/ reaches (a stand-in for) controller-runtime through shoot/.
func TestImportRulesCatchViolations(t *testing.T) {
	module, pkgs := listPackages(t, path.Join("testdata", "forbidden"))
	got := violations(module, pkgs)
	assert.Contains(t, got, "rules imports example.com/forbidden/internal/kit: rules/ is the language; it knows nothing above it")
	assert.Contains(t, got, "rules depends on example.com/forbidden/controllers/x (directly): only cmd/ imports controllers/")
	assert.NotContains(t, got, "rollout depends on example.com/forbidden/controllers/x (transitively): only cmd/ imports controllers/",
		"importing a package that imports controllers/ is that package's violation")
	assert.Contains(t, got, "rollout depends on sigs.k8s.io/controller-runtime/pkg/client (transitively): rollout is pure: no controller-runtime, no client-go")
	assert.Contains(t, got, "shoot depends on sigs.k8s.io/controller-runtime/pkg/client (directly): only controllers/, webhooks/, dashboard/, devenv/ (its API servers are envtest's), internal/reconcile and cmd/ import controller-runtime")
	assert.NotContains(t, got, "cmd depends on example.com/forbidden/controllers/x (directly): only cmd/ imports controllers/")
}

// Size limits of the house style: a longer file mixes layers, a longer
// function mixes steps. A function may be longer when the first line of
// its body is a comment that says why (a table, a mirrored upstream switch).
const (
	maxFileLines = 600
	maxFuncLines = 80
)

// TestSizes checks every non-test, non-generated Go file of the module.
func TestSizes(t *testing.T) {
	var problems []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && p != ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.HasPrefix(d.Name(), "zz_generated") {
			return nil
		}
		problems = append(problems, sizeProblems(t, p)...)
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func sizeProblems(t *testing.T, file string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	require.NoError(t, err)
	var out []string
	if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
		out = append(out, fmt.Sprintf("%s: %d lines (limit %d): split it by layer", file, n, maxFileLines))
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start, end := fset.Position(fn.Body.Lbrace).Line, fset.Position(fn.Body.Rbrace).Line
		if end-start-1 <= maxFuncLines || reasonGiven(fset, f, start) {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: func %s has %d lines (limit %d): split it or say why in a comment on its first line",
			file, fset.Position(fn.Pos()).Line, fn.Name.Name, end-start-1, maxFuncLines))
	}
	return out
}

// reasonGiven reports whether a comment sits on the line after line.
func reasonGiven(fset *token.FileSet, f *ast.File, line int) bool {
	for _, cg := range f.Comments {
		if fset.Position(cg.Pos()).Line == line+1 {
			return true
		}
	}
	return false
}
