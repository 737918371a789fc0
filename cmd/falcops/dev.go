package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/utils/clock"

	"github.com/falcops/falcops/devenv"
)

type devOptions struct {
	shoots              int
	state, repo, bin    string
	reset               bool
	dashboardAddr       string
	registryAddr        string
	pause, pollInterval time.Duration
}

func newDevCmd() *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "A local garden on this machine: API servers, registry, sample shoots, the real controller and extension",
		Long: `Start a local Gardener landscape on 127.0.0.1 and keep it running until Ctrl-C:

  - a garden, a seed and one shoot API server (envtest's kube-apiserver and etcd,
    built once by hack/envtest-assets.sh into the tool cache),
  - the embedded registry with this repository's rulesets (and the upstream
    rulesets they depend on, from $FALCOPS_RULESETS_PATH) and profiles, signed
    with a dev key,
  - sample projects and --shoots shoots (varied maintenance windows, Falco
    versions and autoUpdate; one on a removed Falco version, which stays
    blocked), RuleSources and a RolloutPolicy with three waves,
  - falcops-controller (webhooks and dashboard on) and falcops-extension, the
    real binaries from --bin-dir, as child processes,
  - and stand-ins of gardenlet (Cluster and Extension objects in the seed for
    every shoot) and gardener-resource-manager (the demo shoot's Falco objects
    applied to the shoot API server).

It prints the dashboard address, a kubeconfig per cluster and what to try.
Everything lives in --state; a restart continues from it, --reset deletes it
first. Ctrl-C stops the children, then the API servers, and leaves no process.`,
		Example: `  make dev
  falcops dev --shoots 200 --dashboard-addr 127.0.0.1:8090
  falcops dev --reset`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, cmd)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.shoots, "shoots", 50, "number of sample shoots")
	f.StringVar(&o.state, "state", ".falcops-dev", "folder of everything the local garden keeps: etcd data, registry, keys, kubeconfigs, logs")
	f.BoolVar(&o.reset, "reset", false, "delete --state first and start from scratch")
	f.StringVar(&o.repo, "repo", ".", "repository root (CRDs, webhook configurations, configuration, rulesets, profiles)")
	f.StringVar(&o.bin, "bin-dir", "", "folder of the falcops-controller and falcops-extension binaries (default: this binary's folder; make dev builds all three into bin/)")
	f.StringVar(&o.dashboardAddr, "dashboard-addr", "127.0.0.1:8090", "address of the controller's dashboard (loopback)")
	f.StringVar(&o.registryAddr, "registry-addr", "", "address of the embedded registry (default: the one of the last run in --state, else a free loopback port)")
	f.DurationVar(&o.pause, "pause", 30*time.Second, "the sample RolloutPolicy's pause between waves")
	f.DurationVar(&o.pollInterval, "poll-interval", 5*time.Second, "how often the controller polls the RuleSources")
	return cmd
}

func (o *devOptions) run(ctx context.Context, cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	if o.shoots < 1 || o.pause < 0 || o.pollInterval <= 0 {
		return fmt.Errorf("--shoots %d, --pause %s, --poll-interval %s: want at least 1 shoot, a pause of 0 or more and a positive interval",
			o.shoots, o.pause, o.pollInterval)
	}
	if !loopbackAddr(o.dashboardAddr) {
		return fmt.Errorf("--dashboard-addr %s: the dev dashboard has no authentication, use a loopback address", o.dashboardAddr)
	}
	state, err := filepath.Abs(o.state)
	if err != nil {
		return err
	}
	if o.reset {
		if err := os.RemoveAll(state); err != nil {
			return fmt.Errorf("--reset: %w", err)
		}
		fmt.Fprintf(out, "dev: --reset: deleted %s\n", state)
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	bin := o.bin
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		bin = filepath.Dir(exe)
	}
	assets, err := toolDir(cmd, "KUBEBUILDER_ASSETS", o.repo, "hack/envtest-assets.sh")
	if err != nil {
		return err
	}
	crds, err := toolDir(cmd, "FALCOPS_GARDENER_CRDS", o.repo, "hack/gardener-crds.sh", filepath.Join(cacheDir(), "gardener-crds"))
	if err != nil {
		return err
	}
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return err
	}
	addrFile := filepath.Join(state, "registry.addr")
	ro := &runOptions{addr: o.registryAddr, dir: filepath.Join(state, "registry"), prefix: "falcops", repo: o.repo, quiet: true, dependencies: true}
	if ro.addr == "" {
		ro.addr = "127.0.0.1:0"
		if saved, err := os.ReadFile(addrFile); err == nil && free(string(saved)) {
			ro.addr = string(saved)
		}
	}
	return ro.run(ctx, cmd, func(res runResult) error {
		if err := os.WriteFile(addrFile, []byte(res.host), 0o644); err != nil {
			return err
		}
		names := make([]string, 0, len(res.digests))
		for name := range res.digests {
			names = append(names, name)
		}
		slices.Sort(names)
		env, err := devenv.Start(ctx, devenv.Options{State: state, Shoots: o.shoots, Pause: o.pause, PollInterval: o.pollInterval,
			Clock: clock.RealClock{}, Assets: assets, GardenerCRDs: crds, Repo: repo, Bin: bin, DashboardAddr: o.dashboardAddr, Out: out,
			Registry: devenv.Registry{Host: res.host, Prefix: "falcops", PublicKey: res.publicKey, Rulesets: names}})
		if err != nil {
			return err
		}
		runErr := env.PrintHints(out)
		if runErr == nil {
			runErr = env.Run(ctx)
		}
		fmt.Fprintln(out, "dev: stopping")
		err = errors.Join(runErr, env.Stop())
		if err == nil {
			fmt.Fprintln(out, "dev: stopped")
		}
		return err
	})
}

// toolDir is the folder in environment variable name, or the one the
// repository's script prints (or fills, when dir is given), run with its
// progress on stderr.
func toolDir(cmd *cobra.Command, name, repo, script string, dir ...string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	path := filepath.Join(repo, script)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("$%s is not set and %s is missing: run falcops dev in the repository (or make dev)", name, path)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "dev: $%s is not set: running %s (the first run builds it, minutes)\n", name, script)
	c := exec.CommandContext(cmd.Context(), path, dir...)
	c.Stderr = cmd.ErrOrStderr()
	outb, err := c.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	if len(dir) > 0 {
		return dir[0], nil
	}
	return strings.TrimSpace(string(outb)), nil
}

// cacheDir is the tool cache (FALCOPS_CACHE, else ~/.cache/falcops).
func cacheDir() string {
	if v := os.Getenv("FALCOPS_CACHE"); v != "" {
		return v
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "falcops")
}

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// free tells whether addr can be listened on now.
func free(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}
