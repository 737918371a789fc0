package falcops_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/oci/ocitest"
)

// The documents whose example commands TestDocsCommands runs.
var documents = []string{"README.md", "docs/*.md", "rulesets/README.md", "profiles/README.md"}

// docsPassword protects the cosign.key the workspace holds.
const docsPassword = "docs-test"

// TestDocsCommands runs every example command of README.md and docs/ on the
// shipped data, in a Git copy of the repository per document: falcops as a
// binary built from this tree, kubectl against envtest, remote registries
// rewritten to the in-process registry on 127.0.0.1 (see rewrite).
// Transcripts (`$ command` and its output) must match; synopses must only
// name flags the command's --help lists; YAML objects in the docs are applied
// with a server-side dry run. A command marked `# not run: reason` is counted
// and reported, not run.
func TestDocsCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds falcops and starts envtest")
	}
	sharedtest.UpstreamRulesets(t) // the tuning rulesets depend on upstream's
	d := newDocsRun(t)
	for _, pattern := range documents {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, f := range files {
			lines, err := parseDoc(f)
			require.NoError(t, err)
			if len(lines) == 0 {
				continue
			}
			t.Run(f, func(t *testing.T) { d.document(t, lines) })
		}
	}
	t.Logf("docs: %d commands run, %d transcripts compared, %d synopses checked against --help, %d YAML objects dry-run applied, %d not run:",
		d.ran, d.transcripts, d.synopses, d.manifests, len(d.notRun))
	for _, n := range d.notRun {
		t.Logf("  not run: %s", n)
	}
	require.Positive(t, d.ran, "no example command found in %v", documents)
}

// docsRun holds what every document's commands share.
type docsRun struct {
	bin, kubeconfig, kubectl string
	registry                 string // host:port of the in-process registry
	ran, transcripts         int
	synopses, manifests      int
	notRun                   []string
}

func newDocsRun(t *testing.T) *docsRun {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "falcops"), "./cmd/falcops")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/falcops: %s", out)
	env := testenv.Start(t)
	kubeconfig := filepath.Join(bin, "kubeconfig")
	env.WriteKubeconfig(t, kubeconfig)
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	kubectl := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		sharedtest.SkipOrFail(t, "FALCOPS_REQUIRE_TOOLS", "no kubectl in KUBEBUILDER_ASSETS (%s): rerun hack/envtest-assets.sh", assets)
	}
	return &docsRun{bin: bin, kubeconfig: kubeconfig, kubectl: assets, registry: ocitest.New(t).Host}
}

// document runs one document's lines in order in a fresh workspace.
func (d *docsRun) document(t *testing.T, lines []docLine) {
	ws := newWorkspace(t)
	env := d.environ(ws)
	seeded := false
	for _, l := range lines {
		at := fmt.Sprintf("%s:%d", l.file, l.line)
		switch {
		case l.notRun != "":
			d.notRun = append(d.notRun, fmt.Sprintf("%s: %s (%s)", at, stripComment(l.text), l.notRun))
		case l.kind == docSynopsis:
			d.checkSynopsis(t, at, l.text)
			d.synopses++
		case l.kind == docManifest:
			_, err := shell(ws, env, l.text, "kubectl apply --dry-run=server -f -")
			require.NoError(t, err, "%s: the YAML example is refused by the API server", at)
			d.manifests++
		default:
			cmd := d.rewrite(stripComment(l.text))
			if !seeded && regexp.MustCompile(`\b(shootrollouts?|sro)\b`).MatchString(cmd) {
				seedShootRollouts(t, ws, env)
				seeded = true
			}
			out, err := shell(ws, env, "", cmd)
			if l.output != nil {
				d.transcripts++
				require.Equal(t, strings.Join(l.output, "\n"), strings.TrimRight(out, "\n"), "%s: `%s` prints something else than the document shows", at, cmd)
			} else {
				require.NoError(t, err, "%s: `%s` failed:\n%s", at, cmd, out)
			}
			d.ran++
			t.Logf("%s: ran `%s`", at, cmd)
		}
	}
}

// environ is the environment commands run in: falcops and kubectl on PATH,
// the envtest kubeconfig, the workspace's key password.
func (d *docsRun) environ(ws string) []string {
	env := []string{
		"PATH=" + d.bin + string(os.PathListSeparator) + d.kubectl + string(os.PathListSeparator) + "/usr/local/go/bin" + string(os.PathListSeparator) + os.Getenv("PATH"),
		"KUBECONFIG=" + d.kubeconfig,
		"COSIGN_PASSWORD=" + docsPassword,
		"HOME=" + os.Getenv("HOME"),
		"GIT_CONFIG_GLOBAL=" + filepath.Join(ws, ".git", "docs-gitconfig"),
	}
	for _, k := range []string{"FALCOPS_CACHE", "GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY", "KUBEBUILDER_ASSETS", "FALCOPS_RULESETS_PATH"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// rewrite turns a documented command into one that runs here: the falcops
// binary for `go run ./cmd/falcops`, the in-process registry (over plain
// HTTP, loopback only) for ghcr.io, a free port for the main job's, and a
// deadline for kubectl wait.
func (d *docsRun) rewrite(cmd string) string {
	cmd = strings.ReplaceAll(cmd, "go run ./cmd/falcops", "falcops")
	if strings.Contains(cmd, "ghcr.io/") {
		cmd = strings.ReplaceAll(cmd, "ghcr.io/", d.registry+"/")
		if strings.HasPrefix(cmd, "falcops ") {
			cmd += " --plain-http"
		}
	}
	cmd = strings.ReplaceAll(cmd, "127.0.0.1:5000", "127.0.0.1:"+freePort())
	if strings.HasPrefix(cmd, "kubectl wait ") {
		cmd += " --timeout=30s"
	}
	return cmd
}

// checkSynopsis checks that every flag a synopsis line names is in the
// command's --help.
func (d *docsRun) checkSynopsis(t *testing.T, at, line string) {
	words := strings.Fields(stripComment(line))
	var path []string
	for _, w := range words[1:] {
		if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") || !regexp.MustCompile(`^[a-z|]+$`).MatchString(w) {
			break
		}
		path = append(path, w)
	}
	// `profile list|timeline` names two commands.
	variants := [][]string{path}
	if n := len(path); n > 0 && strings.Contains(path[n-1], "|") {
		variants = nil
		for _, alt := range strings.Split(path[n-1], "|") {
			variants = append(variants, append(append([]string{}, path[:n-1]...), alt))
		}
	}
	flags := regexp.MustCompile(`(?:^|[\s\[|])(--?[a-z][a-z-]*)`).FindAllStringSubmatch(stripComment(line), -1)
	for _, v := range variants {
		help, err := exec.Command(filepath.Join(d.bin, "falcops"), append(v, "--help")...).CombinedOutput()
		require.NoError(t, err, "%s: falcops %s --help: %s", at, strings.Join(v, " "), help)
		for _, f := range flags {
			require.Regexp(t, `(?m)(^|[\s,])`+regexp.QuoteMeta(f[1])+`\b`, string(help), "%s: `falcops %s` has no flag %s, the synopsis names it", at, strings.Join(v, " "), f[1])
		}
	}
}

// shell runs cmd with bash in dir; stdin is given to it when not empty.
func shell(dir string, env []string, stdin, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", cmd)
	c.Dir, c.Env = dir, env
	c.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

// newWorkspace is a Git repository holding this tree's files (tracked and
// new, not ignored) with origin/main at its one commit, a cosign key pair,
// and the loose rules files the README's examples name.
func newWorkspace(t *testing.T) string {
	ws := t.TempDir()
	files, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err)
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		require.NoError(t, err)
		info, err := os.Stat(f)
		require.NoError(t, err)
		sharedtest.WriteFile(t, ws, f, string(data))
		require.NoError(t, os.Chmod(filepath.Join(ws, f), info.Mode().Perm()))
	}
	rules, err := os.ReadFile("rulesets/heartbeat/heartbeat_rules.yaml")
	require.NoError(t, err)
	for _, loose := range []string{"my_rules.yaml", "old_rules.yaml"} {
		sharedtest.WriteFile(t, ws, loose, string(rules))
	}
	_, _, err = oci.GenerateKeyPair(ws, []byte(docsPassword))
	require.NoError(t, err)
	git := func(args ...string) {
		c := exec.Command("git", append([]string{"-c", "user.name=docs", "-c", "user.email=docs@falcops.dev", "-c", "commit.gpgsign=false"}, args...)...)
		c.Dir = ws
		out, err := c.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "docs test")
	git("update-ref", "refs/remotes/origin/main", "HEAD")
	sharedtest.WriteFile(t, ws, ".git/docs-gitconfig", "[user]\n\tname = docs\n\temail = docs@falcops.dev\n")
	return ws
}

// seedShootRollouts creates the ShootRollouts the operators guide reads, as
// the controller would have written them (the controller's own tests show
// it does).
func seedShootRollouts(t *testing.T, ws string, env []string) {
	for _, s := range []struct{ ns, name, falco, target, wave, upToDate, reason string }{
		{"garden-team-a", "prod-eu", "0.42.1", "0.43.0", "rest", "False", "WaitingForMaintenanceWindow"},
		{"garden-team-b", "dev", "0.43.0", "0.43.0", "early", "True", "UpToDate"},
	} {
		status := fmt.Sprintf(`{"status":{"falcoVersion":%q,"targetFalcoVersion":%q,"wave":%q,"reason":%q,"message":"seeded by the docs test","conditions":[{"type":"UpToDate","status":%q,"reason":%q,"message":"seeded","lastTransitionTime":"2026-12-01T00:00:00Z"}]}}`,
			s.falco, s.target, s.wave, s.reason, s.upToDate, s.reason)
		script := fmt.Sprintf(`kubectl create namespace %[1]s --dry-run=client -o yaml | kubectl apply -f - &&
printf 'apiVersion: falcops.dev/v1alpha1\nkind: ShootRollout\nmetadata: {name: %[2]s, namespace: %[1]s}\n' | kubectl apply -f - &&
kubectl -n %[1]s patch shootrollout %[2]s --type=merge -p '%[3]s'`, s.ns, s.name, status)
		out, err := shell(ws, env, "", script)
		require.NoError(t, err, "seeding ShootRollout %s/%s: %s", s.ns, s.name, out)
	}
}

func freePort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "0"
	}
	defer func() { _ = l.Close() }()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
