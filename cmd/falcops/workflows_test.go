package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/internal/clitest"
)

// The GitHub workflows and the composite action in .github/ run falcops
// commands; these tests keep them valid (actionlint) and in step with the CLI
// (every invocation parses), and run the falco -V step's script with stand-ins
// for docker and falcops.

// topDir is the repository root, seen from this package.
const topDir = "../.."

var (
	workflowsDir = filepath.Join(topDir, ".github", "workflows")
	gateAction   = filepath.Join(topDir, ".github", "actions", "falcops-gate", "action.yml")
	prWorkflow   = filepath.Join(workflowsDir, "pr.yaml")
)

// step is the part of a workflow or action step these tests read.
type step struct {
	ID    string            `yaml:"id"`
	Name  string            `yaml:"name"`
	Uses  string            `yaml:"uses"`
	Run   string            `yaml:"run"`
	Shell string            `yaml:"shell"`
	If    string            `yaml:"if"`
	Env   map[string]string `yaml:"env"`
	With  map[string]string `yaml:"with"`
}

type workflow struct {
	Jobs map[string]struct {
		Needs    any    `yaml:"needs"`
		Strategy any    `yaml:"strategy"`
		Steps    []step `yaml:"steps"`
	} `yaml:"jobs"`
}

type compositeAction struct {
	Name   string `yaml:"name"`
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	must(t, err)
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func workflowFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(workflowsDir, "*.yaml"))
	must(t, err)
	yml, err := filepath.Glob(filepath.Join(workflowsDir, "*.yml"))
	must(t, err)
	files = append(files, yml...)
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no workflow in %s", workflowsDir)
	}
	return files
}

// TestWorkflowsActionlint runs the real actionlint (hack/tools.sh actionlint)
// over every workflow. actionlint checks workflows only (and the metadata of
// local actions they use); the composite action is checked below.
func TestWorkflowsActionlint(t *testing.T) {
	bin := clitest.Tool(t, "actionlint")
	root, err := filepath.Abs(topDir)
	must(t, err)
	var rel []string
	for _, f := range workflowFiles(t) {
		r, err := filepath.Rel(topDir, f)
		must(t, err)
		rel = append(rel, r)
	}
	stdout, stderr, err := clitest.Run(t, bin, nil, root, append([]string{"-no-color"}, rel...)...)
	if err != nil {
		t.Fatalf("actionlint: %v\n%s%s", err, stdout, stderr)
	}
}

func TestGateActionIsComposite(t *testing.T) {
	var a compositeAction
	readYAML(t, gateAction, &a)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	for _, in := range []string{"base-ref", "falcops-version", "working-directory"} {
		if _, ok := a.Inputs[in]; !ok {
			t.Errorf("input %q missing", in)
		} else if a.Inputs[in].Description == "" {
			t.Errorf("input %q has no description", in)
		}
	}
	if len(a.Runs.Steps) == 0 {
		t.Fatal("no steps")
	}
	var installs, summary bool
	for i, s := range a.Runs.Steps {
		if (s.Run == "") == (s.Uses == "") {
			t.Errorf("step %d: exactly one of run and uses", i)
		}
		if s.Run != "" && s.Shell == "" {
			t.Errorf("step %d (%s): a composite run step needs shell", i, s.Name)
		}
		installs = installs || strings.Contains(s.Run, "go install \"github.com/falcops/falcops/cmd/falcops@")
		summary = summary || strings.Contains(s.Run, "$GITHUB_STEP_SUMMARY")
	}
	if !installs || !summary {
		t.Errorf("the action must go install falcops (%v) and write the gate report to $GITHUB_STEP_SUMMARY (%v)", installs, summary)
	}
}

// invocation is one falcops command line found in a run script.
type invocation struct {
	where string
	args  []string
}

var exprRe = regexp.MustCompile(`\$\{\{.*?\}\}`)

// shellWords splits a command line into words, honouring quotes (no
// expansion), and stops at the first shell operator or redirection.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words
		case strings.ContainsRune(";|&<>()", r) && !inWord, strings.ContainsRune(";|&<>", r):
			if inWord {
				w := cur.String()
				if regexp.MustCompile(`^[0-9]+$`).MatchString(w) && (r == '>' || r == '<') {
					return words // 2> redirection
				}
				words = append(words, w)
			}
			return words
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// falcopsInvocations finds `falcops ARGS` and `go run ./cmd/falcops ARGS`
// in a run script. ${{ ... }} expressions become a placeholder word.
func falcopsInvocations(where, script string) []invocation {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out []invocation
	for _, line := range strings.Split(script, "\n") {
		line = exprRe.ReplaceAllString(line, "EXPR")
		words := shellWords(strings.TrimSpace(line))
		for i := 0; i < len(words); i++ {
			var rest []string
			switch {
			case words[i] == "falcops":
				rest = words[i+1:]
			case words[i] == "go" && i+2 < len(words) && words[i+1] == "run" && words[i+2] == "./cmd/falcops":
				rest = words[i+3:]
			default:
				continue
			}
			out = append(out, invocation{where: where + ": " + strings.TrimSpace(line), args: rest})
			break
		}
	}
	return out
}

func workflowInvocations(t *testing.T, path string) []invocation {
	t.Helper()
	var w workflow
	readYAML(t, path, &w)
	var out []invocation
	for name, job := range w.Jobs {
		for _, s := range job.Steps {
			out = append(out, falcopsInvocations(filepath.Base(path)+" job "+name, s.Run)...)
		}
	}
	return out
}

func actionInvocations(t *testing.T) []invocation {
	t.Helper()
	var a compositeAction
	readYAML(t, gateAction, &a)
	var out []invocation
	for _, s := range a.Runs.Steps {
		out = append(out, falcopsInvocations("falcops-gate action", s.Run)...)
	}
	return out
}

// checkInvocation parses args with the real command tree and returns the
// command path ("profile matrix").
func checkInvocation(t *testing.T, inv invocation) string {
	t.Helper()
	root := newRootCmd(io.Discard, io.Discard)
	cmd, rest, err := root.Find(inv.args)
	if err != nil || cmd == root {
		t.Errorf("%s: no falcops subcommand %v (%v)", inv.where, inv.args, err)
		return ""
	}
	path := strings.TrimPrefix(cmd.CommandPath(), root.Name()+" ")
	if cmd.Hidden && cmd.Short == "" && !cmd.HasAvailableLocalFlags() {
		// Another engineer's command is still a placeholder; its flags
		// cannot be checked yet.
		t.Logf("%s: %q is a placeholder; flags not checked", inv.where, path)
		return path
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: %v", inv.where, err)
		return path
	}
	if cmd.Args != nil {
		if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
			t.Errorf("%s: %v", inv.where, err)
		}
	}
	return path
}

// TestWorkflowInvocationsParse: every falcops command line in the workflows
// and the composite action names a real subcommand with real flags, and the
// pull-request workflow runs exactly the tested commands.
func TestWorkflowInvocationsParse(t *testing.T) {
	pr := map[string]bool{}
	invs := workflowInvocations(t, prWorkflow)
	for _, inv := range invs {
		if p := checkInvocation(t, inv); p != "" {
			pr[p] = true
		}
	}
	var got []string
	for p := range pr {
		got = append(got, p)
	}
	sort.Strings(got)
	if want := []string{"gate", "profile matrix", "test", "validate"}; !slices.Equal(got, want) {
		t.Errorf("pr.yaml runs falcops %v, want exactly %v", got, want)
	}

	action := actionInvocations(t)
	var actionCmds []string
	for _, inv := range action {
		actionCmds = append(actionCmds, checkInvocation(t, inv))
	}
	sort.Strings(actionCmds)
	if want := []string{"gate", "test", "validate"}; !slices.Equal(actionCmds, want) {
		t.Errorf("the composite action runs falcops %v, want %v", actionCmds, want)
	}

	for _, f := range workflowFiles(t) {
		if f == prWorkflow {
			continue
		}
		for _, inv := range workflowInvocations(t, f) {
			checkInvocation(t, inv)
		}
	}
}

func TestShellWords(t *testing.T) {
	cases := map[string][]string{
		`falcops gate --base "origin/$BASE_REF" -o markdown > gate.md || rc=$?`: {"falcops", "gate", "--base", "origin/$BASE_REF", "-o", "markdown"},
		`falcops validate -o sarif . > falcops.sarif`:                           {"falcops", "validate", "-o", "sarif", "."},
		`falcops profile matrix -o github >> "$GITHUB_OUTPUT"`:                  {"falcops", "profile", "matrix", "-o", "github"},
		`falcops validate -o json . 2> err`:                                     {"falcops", "validate", "-o", "json", "."},
		`echo 'falcops validate' # falcops test`:                                {"echo", "falcops validate"},
		`if falcops test; then`:                                                 {"if", "falcops", "test"},
	}
	for line, want := range cases {
		if got := shellWords(line); !slices.Equal(got, want) {
			t.Errorf("%s\n got %q\nwant %q", line, got, want)
		}
	}
	invs := falcopsInvocations("x", "go run ./cmd/falcops publish --registry ghcr.io/${{ github.repository_owner }}/falco \\\n  --index index.yaml\necho \"$RUNNER_TEMP/bin/falcops\"\n")
	if len(invs) != 1 || !slices.Equal(invs[0].args, []string{"publish", "--registry", "ghcr.io/EXPR/falco", "--index", "index.yaml"}) {
		t.Errorf("invocations %+v", invs)
	}
}

// TestHelperProcessFalcops is not a test: the falco -V script test runs the
// test binary as `falcops` through it.
func TestHelperProcessFalcops(t *testing.T) {
	if os.Getenv("FALCOPS_HELPER_PROCESS") != "1" {
		t.Skip("helper process for TestFalcoValidateScript")
	}
	os.Exit(run(flag.Args(), os.Stdout, os.Stderr))
}

// TestFalcoValidateScript runs the falco -V step of pr.yaml with a stand-in
// docker that records its arguments, and checks the load order (dependencies
// first, then the manifest's files), the engine skip, and failures.
func TestFalcoValidateScript(t *testing.T) {
	for _, tool := range []string{"bash", "jq", "awk", "sort"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found (GitHub's runners have it)", tool)
		}
	}
	var w workflow
	readYAML(t, prWorkflow, &w)
	var script string
	for _, s := range w.Jobs["falco-validate"].Steps {
		if s.ID == "falco-validate" {
			script = s.Run
		}
	}
	if script == "" {
		t.Fatal("pr.yaml: no step falco-validate in job falco-validate")
	}
	if w.Jobs["falco-validate"].Strategy == nil {
		t.Error("job falco-validate has no matrix strategy")
	}

	repo := repoWith(t, "heartbeat", "custom-example")
	tuning := filepath.Join(repo, "rulesets", "tuning")
	must(t, os.MkdirAll(filepath.Join(tuning, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(tuning, "ruleset.yaml"), []byte(`name: tuning
version: 1.0.0
maintainers:
  - name: not-a-dependency
files:
  - sub/b.yaml
  - a.yaml
dependsOn:
  # both, in this order
  - name: heartbeat
    major: 1
  - major: 0
    name: "custom-example"
`), 0o644))
	must(t, os.WriteFile(filepath.Join(tuning, "a.yaml"), []byte("- required_engine_version: 0.31.0\n- list: falcops_heartbeat_markers\n  items: [tuned]\n  override: {items: append}\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(tuning, "sub", "b.yaml"), []byte("- required_engine_version: 0.31.0\n- list: tuning_unused\n  items: [x]\n"), 0o644))
	newer := filepath.Join(repo, "rulesets", "newer")
	must(t, os.MkdirAll(newer, 0o755))
	must(t, os.WriteFile(filepath.Join(newer, "ruleset.yaml"), []byte("name: newer\nversion: 1.0.0\nfiles: [r.yaml]\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(newer, "r.yaml"), []byte("- required_engine_version: 0.62.0\n- list: newer_list\n  items: [x]\n"), 0o644))

	testBin, err := os.Executable()
	must(t, err)
	bin := t.TempDir()
	must(t, os.WriteFile(filepath.Join(bin, "falcops"), []byte("#!/bin/sh\nFALCOPS_HELPER_PROCESS=1 exec \""+testBin+"\" -test.run='^TestHelperProcessFalcops$' -- \"$@\"\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(bin, "docker"), []byte("#!/bin/sh\necho \"$*\" >> \"$DOCKER_LOG\"\nexit \"${DOCKER_EXIT:-0}\"\n"), 0o755))
	scriptFile := filepath.Join(t.TempDir(), "step.sh")
	must(t, os.WriteFile(scriptFile, []byte(script), 0o644))

	runStep := func(t *testing.T, dockerExit string) (int, string, string, string) {
		tmp := t.TempDir()
		log := filepath.Join(tmp, "docker.log")
		summary := filepath.Join(tmp, "summary.md")
		// As GitHub runs a bash step: bash --noprofile --norc -eo pipefail {0}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", scriptFile)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"RUNNER_TEMP="+tmp, "GITHUB_STEP_SUMMARY="+summary, "DOCKER_LOG="+log, "DOCKER_EXIT="+dockerExit,
			"IMAGE=falcosecurity/falco:0.42.1", "FALCO=0.42.1", "ENGINE=0.57.0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		dl, _ := os.ReadFile(log)
		sm, _ := os.ReadFile(summary)
		return code, out.String(), string(dl), string(sm)
	}

	t.Run("load order and engine skip", func(t *testing.T) {
		code, out, docker, summary := runStep(t, "0")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		common := "run --rm --network none -v " + repo + "/rulesets:/rulesets:ro --entrypoint /usr/bin/falco falcosecurity/falco:0.42.1 "
		want := []string{
			common + "-V /rulesets/custom-example/custom_rules.yaml -V /rulesets/custom-example/custom_exceptions.yaml",
			common + "-V /rulesets/heartbeat/heartbeat_rules.yaml",
			common + "-V /rulesets/heartbeat/heartbeat_rules.yaml -V /rulesets/custom-example/custom_rules.yaml -V /rulesets/custom-example/custom_exceptions.yaml" +
				" -V /rulesets/tuning/sub/b.yaml -V /rulesets/tuning/a.yaml",
		}
		if got := strings.Split(strings.TrimSpace(docker), "\n"); !slices.Equal(got, want) {
			t.Errorf("docker runs:\n%s\nwant:\n%s\noutput:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
		}
		if !strings.Contains(out, "::notice title=falco -V::newer requires engine 0.62.0; Falco 0.42.1 has 0.57.0: skipped") {
			t.Errorf("no skip notice:\n%s", out)
		}
		for _, w := range []string{"| ruleset | Falco 0.42.1 (engine 0.57.0) |", "| newer | skipped: requires engine 0.62.0 |", "| tuning | :white_check_mark: |"} {
			if !strings.Contains(summary, w) {
				t.Errorf("summary lacks %q:\n%s", w, summary)
			}
		}
	})
	t.Run("a failing Falco fails the step", func(t *testing.T) {
		code, out, docker, summary := runStep(t, "1")
		if code != 1 || strings.Count(docker, "\n") != 3 {
			t.Fatalf("exit %d, %d docker runs (want 1 and every ruleset tried)\n%s", code, strings.Count(docker, "\n"), out)
		}
		if !strings.Contains(out, "::error title=falco -V::heartbeat does not load in Falco 0.42.1") || !strings.Contains(summary, "| heartbeat | :x: see the log |") {
			t.Errorf("output:\n%s\nsummary:\n%s", out, summary)
		}
	})
	t.Run("a missing dependency fails the step", func(t *testing.T) {
		manifest := filepath.Join(tuning, "ruleset.yaml")
		orig, err := os.ReadFile(manifest)
		must(t, err)
		t.Cleanup(func() { must(t, os.WriteFile(manifest, orig, 0o644)) })
		must(t, os.WriteFile(manifest, []byte(strings.Replace(string(orig), "name: heartbeat", "name: gone", 1)), 0o644))
		code, out, _, _ := runStep(t, "0")
		if code != 1 || !strings.Contains(out, "tuning: dependsOn ruleset(s) gone not found under rulesets/") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("a flow-style dependsOn is refused", func(t *testing.T) {
		manifest := filepath.Join(tuning, "ruleset.yaml")
		orig, err := os.ReadFile(manifest)
		must(t, err)
		t.Cleanup(func() { must(t, os.WriteFile(manifest, orig, 0o644)) })
		i := strings.Index(string(orig), "dependsOn:")
		must(t, os.WriteFile(manifest, []byte(string(orig[:i])+"dependsOn: [{name: heartbeat, major: 1}]\n"), 0o644))
		code, out, _, _ := runStep(t, "0")
		if code != 1 || !strings.Contains(out, "write dependsOn as a block list") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
}
