package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/devenv"
	"github.com/falcops/falcops/internal/scheme"
	"github.com/falcops/falcops/internal/sharedtest"
)

// devProcess is `falcops dev` run as a process of its own (the test
// binary as the CLI), its output collected.
type devProcess struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	out   strings.Builder
	ready chan struct{}
	done  chan error
}

func (p *devProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startDev starts falcops dev with args and waits until it says it is
// ready.
func startDev(t *testing.T, bin string, args ...string) *devProcess {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, append([]string{"dev", "--bin-dir", bin}, args...)...)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	cmd.Dir = sharedtest.RepoRoot(t)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	require.NoError(t, cmd.Start())
	p := &devProcess{cmd: cmd, ready: make(chan struct{}), done: make(chan error, 1)}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.HasPrefix(sc.Text(), devenv.ReadyLine) {
				once.Do(func() { close(p.ready) })
			}
		}
	}()
	// done is sent once the output is read to its end.
	go func() { err := cmd.Wait(); _ = pw.Close(); <-scanned; p.done <- err }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case <-p.ready:
		t.Logf("falcops dev %v ready after %s", args, time.Since(start).Round(100*time.Millisecond))
		return p
	case err := <-p.done:
		t.Fatalf("falcops dev exited (%v) before it was ready:\n%s", err, p.output())
	case <-time.After(5 * time.Minute):
		t.Fatalf("falcops dev not ready after 5 minutes:\n%s", p.output())
	}
	return nil
}

// descendants are the PIDs of the processes below pid (children,
// grandchildren, ...), from /proc.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	parent := map[int]int{}
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	for _, e := range entries {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold blanks.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			parent[id] = ppid
		}
	}
	var out []int
	for id := range parent {
		for p := parent[id]; p != 0; p = parent[p] {
			if p == pid {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// alive tells whether pid runs (a zombie does not count).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// interrupt sends SIGINT (Ctrl-C) and waits for a clean exit; no process
// it started may be left.
func (p *devProcess) interrupt(t *testing.T) {
	t.Helper()
	below := descendants(t, p.cmd.Process.Pid)
	require.NotEmpty(t, below, "falcops dev runs API servers and the falcops binaries")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-p.done:
		require.NoError(t, err, "falcops dev after Ctrl-C:\n%s", p.output())
	case <-time.After(2 * time.Minute):
		t.Fatalf("falcops dev did not stop within 2 minutes of Ctrl-C:\n%s", p.output())
	}
	assert.Contains(t, p.output(), "dev: stopped")
	var left []int
	for _, pid := range below {
		if alive(pid) {
			left = append(left, pid)
		}
	}
	assert.Empty(t, left, "processes left behind after Ctrl-C (of %d started)", len(below))
	t.Logf("Ctrl-C: %d processes stopped, none left", len(below))
}

// buildBinaries builds falcops-controller and falcops-extension, the
// binaries falcops dev runs.
func buildBinaries(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("go", "build", "-o", out+"/", "./cmd/falcops-controller", "./cmd/falcops-extension")
	cmd.Dir = sharedtest.RepoRoot(t)
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	return out
}

func gardenClient(t *testing.T, kubeconfig string) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	require.NoError(t, err)
	return c
}

// falcoCounts are the shoots per Falco version the API holds.
func falcoCounts(t *testing.T, c client.Client) (map[string]int, []falcopsv1alpha1.ShootRollout) {
	t.Helper()
	var list falcopsv1alpha1.ShootRolloutList
	require.NoError(t, c.List(context.Background(), &list))
	out := map[string]int{}
	for _, r := range list.Items {
		v := r.Status.FalcoVersion
		if v == "" {
			v = "none"
		}
		out[v]++
	}
	return out, list.Items
}

// publishHeartbeat publishes heartbeat 2.0.1 (a copy of the repository's
// folder with the version raised) with the publish command falcops dev
// printed.
func publishHeartbeat(t *testing.T, state, output string) {
	t.Helper()
	var line string
	for l := range strings.Lines(output) {
		if strings.Contains(l, "falcops publish rulesets/heartbeat") {
			line = strings.TrimSpace(l)
		}
	}
	require.NotEmpty(t, line, "the hints name the publish command")
	dir := filepath.Join(t.TempDir(), "heartbeat")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(sharedtest.RepoRoot(t), "rulesets", "heartbeat"))))
	manifest := filepath.Join(dir, "ruleset.yaml")
	data, err := os.ReadFile(manifest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(manifest, []byte(strings.Replace(string(data), "version: 2.0.0", "version: 2.0.1", 1)), 0o644))
	password, err := os.ReadFile(filepath.Join(state, "registry", "cosign.password"))
	require.NoError(t, err)
	t.Setenv("COSIGN_PASSWORD", string(password))
	// COSIGN_PASSWORD=$(cat ...) falcops publish rulesets/heartbeat ARGS...
	_, cmdline, ok := strings.Cut(line, "falcops publish rulesets/heartbeat ")
	require.True(t, ok)
	args := []string{"publish", dir}
	for _, a := range strings.Fields(cmdline) {
		args = append(args, strings.Trim(a, "'"))
	}
	code, stdout, stderr := runCLI(t, args...)
	require.Equal(t, 0, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "heartbeat 2.0.1: published")
}

// shown are the chart's bars with shoots (the chart also draws the
// profile's versions no shoot runs).
func shown(bars map[string]int) map[string]int {
	out := map[string]int{}
	for label, n := range bars {
		if n > 0 {
			out[label] = n
		}
	}
	return out
}

// movedPerWave polls the ShootRollouts until every shoot that targets
// version and is in its window runs it (3 minutes at most), and returns
// when each shoot was first seen on it, per wave.
func movedPerWave(t *testing.T, garden client.Client, version string) map[string][]time.Time {
	t.Helper()
	moved := map[string]time.Time{}
	waveOf := map[string]string{}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, items := falcoCounts(t, garden)
		pending := 0
		for _, r := range items {
			key := r.Namespace + "/" + r.Name
			waveOf[key] = r.Status.Wave
			if _, ok := moved[key]; !ok && r.Status.FalcoVersion == version {
				moved[key] = time.Now()
			}
			if _, ok := moved[key]; !ok && r.Status.TargetFalcoVersion == version && r.Status.Reason != falcopsv1alpha1.ReasonWaitingForMaintenanceWindow {
				pending++
			}
		}
		if pending == 0 && len(moved) > 0 {
			break
		}
	}
	byWave := map[string][]time.Time{}
	for key, at := range moved {
		byWave[waveOf[key]] = append(byWave[waveOf[key]], at)
	}
	return byWave
}

// TestDevRefusesBadFlags: bad flags are usage errors that name the flag,
// and nothing is written, not even with --reset.
func TestDevRefusesBadFlags(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.MkdirAll(state, 0o755))
	keep := filepath.Join(state, "falco.yaml")
	require.NoError(t, os.WriteFile(keep, []byte("kept"), 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--shoots", "0"}, "--shoots 0"},
		{[]string{"--pause", "-1s"}, "--pause -1s"},
		{[]string{"--poll-interval", "0s"}, "--poll-interval 0s"},
		{[]string{"--dashboard-addr", "0.0.0.0:8090"}, "use a loopback address"},
		{[]string{"--dashboard-addr", "nonsense"}, "use a loopback address"},
	} {
		code, _, stderr := runCLI(t, append([]string{"dev", "--reset", "--state", state}, c.args...)...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Contains(t, stderr, c.want, "%v", c.args)
	}
	data, err := os.ReadFile(keep)
	require.NoError(t, err)
	assert.Equal(t, "kept", string(data), "a refused start deletes nothing")
}

// TestDevStateFromAnyFolder: the default --state and --repo are the
// repository's, wherever falcops dev starts in it.
func TestDevStateFromAnyFolder(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	t.Chdir(filepath.Join(root, "rulesets", "heartbeat"))
	var out strings.Builder
	cmd := newRootCmd(&out, &out)
	cmd.SetArgs([]string{"dev", "--shoots", "0"})
	require.Error(t, cmd.Execute())
	dev, _, err := cmd.Find([]string{"dev"})
	require.NoError(t, err)
	for flag, want := range map[string]string{"state": filepath.Join(root, ".falcops-dev"), "repo": root} {
		got, err := filepath.Abs(dev.Flags().Lookup(flag).Value.String())
		require.NoError(t, err)
		assert.Equal(t, want, got, "--%s", flag)
	}
}

// TestDev: `falcops dev` brings up the local garden; through its garden
// kubeconfig a promotion moves the ShootRollouts wave by wave and the
// extension updates the demo shoot's Falco DaemonSet in the shoot API
// server; the dashboard, in a real headless Chromium, shows the counts the
// API holds, the blocked shoot's reason, and the promotion without a
// reload, with no console error. Ctrl-C leaves no process behind and
// --reset starts from an empty state.
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three API servers and the falcops binaries")
	}
	sharedtest.Getenv(t, "KUBEBUILDER_ASSETS", "run `make test`, or export KUBEBUILDER_ASSETS=$(hack/envtest-assets.sh)")
	sharedtest.Getenv(t, "FALCOPS_GARDENER_CRDS", "run `make test`")
	sharedtest.Getenv(t, "FALCOPS_RULESETS_PATH", "run `make test`, or export FALCOPS_RULESETS_PATH=$(hack/upstream-rulesets.sh)")
	b := newBrowser(t)
	bin := buildBinaries(t)
	state := filepath.Join(t.TempDir(), "state")
	dash := freePort(t)
	p := startDev(t, bin, "--shoots", "12", "--state", state, "--pause", "3s", "--poll-interval", "1s", "--dashboard-addr", dash)
	out := p.output()
	for _, want := range []string{"kubectl get shootrollouts -A", "falcops profile promote 0.44.1 --to supported --profile " + filepath.Join(state, "falco.yaml"),
		"falcops publish rulesets/heartbeat", "http://" + dash + "/dashboard/", filepath.Join(state, "garden.kubeconfig")} {
		assert.Contains(t, out, want)
	}
	garden := gardenClient(t, filepath.Join(state, "garden.kubeconfig"))
	shootC := gardenClient(t, filepath.Join(state, "shoot.kubeconfig"))
	ctx := context.Background()

	// The first rollout: autoUpdate shoots move to the highest supported
	// version, 0.43.0; the demo shoot's DaemonSet follows.
	falcoImage := func() string {
		ds := &appsv1.DaemonSet{}
		if err := shootC.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "falco"}, ds); err != nil {
			return err.Error()
		}
		return ds.Spec.Template.Spec.Containers[0].Image
	}
	require.Eventually(t, func() bool { return falcoImage() == "falcosecurity/falco:0.43.0" }, 2*time.Minute, 200*time.Millisecond,
		"the demo shoot's Falco image: %s", falcoImage())

	// The dashboard.
	b.do(t, chromedp.Navigate("http://"+dash+"/dashboard/"))
	require.Eventually(t, func() bool { return eval[string](t, b, `document.getElementById("live").dataset.state`) == "live" }, 20*time.Second, 100*time.Millisecond)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		want, _ := falcoCounts(t, garden)
		assert.Equal(c, want, shown(b.chart(t, "falco")))
	}, 30*time.Second, 200*time.Millisecond, "the chart shows the API's counts")
	blocked := eval[string](t, b, `document.querySelector('.group[data-reason="DowngradeBlocked"]')?.innerText ?? ""`)
	assert.Contains(t, blocked, "garden-gamma/removed-version")
	assert.Contains(t, blocked, devenv.RemovedVersion+" is no longer in the profile")
	lifecycle := eval[map[string]string](t, b, `Object.fromEntries([...document.querySelectorAll('svg[data-chart=falco] g.bar')].map(g => [g.dataset.label, g.dataset.lifecycle]))`)
	assert.Equal(t, map[string]string{"0.41.3": "deprecated", "0.42.1": "supported", "0.43.0": "supported", "0.44.1": "preview", devenv.RemovedVersion: "removed"}, lifecycle,
		"the chart marks each version with the profile's classification")
	b.screenshot(t, "dashboard-before-promotion")
	assert.Equal(t, 1, eval[int](t, b, `window.falcopsMarker = 1`))

	// Promote 0.44.1 as the hints say: edit the state's profile, apply it.
	code, _, stderr := runCLI(t, "profile", "promote", "0.44.1", "--to", "supported", "--profile", filepath.Join(state, "falco.yaml"))
	require.Equal(t, 0, code, stderr)
	kubectl := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), "apply", "-f", filepath.Join(state, "falco.yaml"))
	kubectl.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(state, "garden.kubeconfig"))
	kout, err := kubectl.CombinedOutput()
	require.NoError(t, err, "%s", kout)

	// Waves: when each shoot first runs 0.44.1, per wave.
	byWave := movedPerWave(t, garden, "0.44.1")
	t.Logf("moved to 0.44.1 per wave: canary %d, early %d, rest %d", len(byWave["canary"]), len(byWave["early"]), len(byWave["rest"]))
	for _, w := range []string{"canary", "early", "rest"} {
		require.NotEmpty(t, byWave[w], "wave %s moved no shoot", w)
	}
	last := func(ts []time.Time) time.Time { return slices.MaxFunc(ts, time.Time.Compare) }
	first := func(ts []time.Time) time.Time { return slices.MinFunc(ts, time.Time.Compare) }
	assert.True(t, last(byWave["canary"]).Before(first(byWave["early"])), "canary completes before early moves")
	assert.True(t, last(byWave["early"]).Before(first(byWave["rest"])), "early completes before rest moves")
	require.Eventually(t, func() bool { return falcoImage() == "falcosecurity/falco:0.44.1" }, time.Minute, 200*time.Millisecond,
		"the extension updated the demo shoot's Falco: %s", falcoImage())

	// The page followed without a reload.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		want, _ := falcoCounts(t, garden)
		assert.Equal(c, want, shown(b.chart(t, "falco")))
	}, 30*time.Second, 200*time.Millisecond, "the chart shows the promotion")
	assert.Equal(t, 1, eval[int](t, b, `window.falcopsMarker ?? 0`), "the page was not reloaded")
	assert.Positive(t, eval[int](t, b, `Number(document.body.dataset.updates ?? 0)`), "live updates arrived")
	assert.Contains(t, eval[string](t, b, `document.querySelector(".recent")?.innerText ?? ""`), "0.44.1")
	// A new ruleset version, published as the hints say: the RuleSource
	// verifies it and the page lists it.
	publishHeartbeat(t, state, p.output())
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		src := &falcopsv1alpha1.RuleSource{}
		if assert.NoError(c, garden.Get(ctx, client.ObjectKey{Name: "heartbeat"}, src)) && assert.NotNil(c, src.Status.Latest) {
			assert.Equal(c, "2.0.1", src.Status.Latest.Version)
		}
		assert.Contains(c, eval[string](t, b, `document.querySelector('tr[data-source="heartbeat"]')?.innerText ?? ""`), "2.0.1")
	}, time.Minute, 200*time.Millisecond, "heartbeat 2.0.1 verified and shown")

	b.do(t, chromedp.Navigate("http://"+dash+"/dashboard/shootrollouts/garden-alpha/demo"))
	assert.Equal(t, "0.44.1", eval[string](t, b, `document.querySelector('[data-field="falcoVersion"]').innerText`))
	b.do(t, chromedp.NavigateBack())
	b.screenshot(t, "dashboard-after-promotion")
	assert.Empty(t, b.Errors(), "console errors")

	p.interrupt(t)

	// The state stays for the next start; --reset deletes it.
	data, err := os.ReadFile(filepath.Join(state, "falco.yaml"))
	require.NoError(t, err)
	require.Contains(t, string(data), "{version: 0.44.1, classification: supported")
	p = startDev(t, bin, "--reset", "--shoots", "3", "--state", state, "--dashboard-addr", dash)
	assert.Contains(t, p.output(), "dev: --reset: deleted "+state)
	data, err = os.ReadFile(filepath.Join(state, "falco.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "{version: 0.44.1, classification: preview", "the profile is the repository's again")
	_, items := falcoCounts(t, gardenClient(t, filepath.Join(state, "garden.kubeconfig")))
	assert.LessOrEqual(t, len(items), 3, "the garden holds only the new run's shoots")
	p.interrupt(t)
}
