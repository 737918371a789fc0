package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/falcops/falcops/agent"
	"github.com/falcops/falcops/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `falcops-agent keeps Falco's rules on the pinned, signed rulesets.

Usage:
  falcops-agent install [flags]   install the pins once and swap them in (init container)
  falcops-agent watch [flags]     follow the mounted pins; serve /healthz, /readyz, /metrics
  falcops-agent heartbeat [flags] only emit the heartbeat (inline delivery); serve /healthz, /metrics
  falcops-agent sidekick-config --template F --token F --out F
                                  write falcosidekick's configuration with its service-account
                                  token in place of SA_TOKEN (falcosidekick's init container)
  falcops-agent version           print the version

Flags:
`

// options are the flags both commands share.
type options struct {
	config, rules, work, falcoctl, addr string
	plainHTTP                           bool
	interval, timeout, heartbeat        time.Duration
	shootRules, before                  list
	shootTree                           string
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func (o *options) flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("falcops-agent "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "/etc/falcoctl/falcoctl.yaml", "the mounted falcoctl configuration: its artifact.install.refs are name@sha256 pins of the file:// index beside it")
	fs.StringVar(&o.rules, "rules", "/etc/falco/rules/rules.d", "the rules directory Falco's rules_files names; its parent must be writable (the set is staged there)")
	fs.StringVar(&o.work, "work", "/tmp/falcops-agent", "scratch directory for installs")
	fs.StringVar(&o.falcoctl, "falcoctl", "falcoctl", "the falcoctl binary")
	fs.BoolVar(&o.plainHTTP, "plain-http", false, "talk HTTP to a loopback registry (development only)")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "how often watch checks the mount")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "deadline of one install (falcoctl and the digest checks)")
	fs.StringVar(&o.addr, "addr", ":8090", "watch, heartbeat: address of /healthz, /readyz and /metrics")
	fs.Var(&o.shootRules, "shoot-rules", "install, watch: a mounted shoot rules ConfigMap (repeatable, in load order): each file that loads on top of the rules before it is staged into --shoot-tree, a broken one is left out and reported")
	fs.Var(&o.before, "before", "install, watch: a directory of rules files Falco loads between the pinned set and the shoot rules (repeatable), such as the custom rules")
	fs.StringVar(&o.shootTree, "shoot-tree", "/etc/falco/rules/shoot.d", "install, watch: the rules directory Falco's rules_files names for the staged shoot rules")
	fs.DurationVar(&o.heartbeat, "heartbeat", 0, "watch, heartbeat: run the heartbeat marker process at every multiple of this on the clock (1h: every full hour; 0: off)")
	fs.Usage = func() {
		_, _ = fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

func (o *options) supervisor(log *slog.Logger) *agent.Supervisor {
	s := &agent.Supervisor{
		Config: o.config,
		Installer: agent.Installer{Falcoctl: o.falcoctl, Env: os.Environ(), PlainHTTP: o.plainHTTP,
			Work: o.work, Timeout: o.timeout},
		Tree:     agent.Tree{Root: o.rules},
		Interval: o.interval,
		Log:      log,
	}
	if len(o.shootRules) > 0 {
		s.Shoot = &agent.ShootRules{Dirs: o.shootRules, Before: append([]string{o.rules}, o.before...), Tree: agent.Tree{Root: o.shootTree}}
	}
	return s
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	if len(args) == 0 {
		o.flags("", stderr).Usage()
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case agent.HeartbeatMarker:
		return 0 // the heartbeat's marker process: Falco sees its exec, nothing else to do
	case "version", "--version":
		_, _ = fmt.Fprint(stdout, version.Report("falcops-agent"))
		return 0
	case "-h", "--help", "help":
		o.flags("", stdout).Usage()
		return 0
	case "sidekick-config":
		return sidekickConfig(rest, stderr)
	case "install", "watch", "heartbeat":
	default:
		_, _ = fmt.Fprintf(stderr, "falcops-agent: unknown command %q (install, watch, heartbeat, sidekick-config, version)\n", cmd)
		return 2
	}
	fs := o.flags(cmd, stderr)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "falcops-agent %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := o.supervisor(log)
	if o.heartbeat > 0 && cmd != "install" {
		s.Heartbeat = &agent.Heartbeat{Every: o.heartbeat, Log: log}
		go func() { _ = s.Heartbeat.Run(ctx) }()
	}
	if cmd == "heartbeat" {
		if s.Heartbeat == nil {
			_, _ = fmt.Fprintln(stderr, "falcops-agent heartbeat: --heartbeat must be positive")
			return 2
		}
		return serve(ctx, s, o.addr, stderr, func(ctx context.Context) error { <-ctx.Done(); return nil })
	}
	if cmd == "install" {
		if err := s.Once(ctx); err != nil {
			_, _ = fmt.Fprintf(stderr, "falcops-agent install: %v\n", err)
			return 1
		}
		_, _ = fmt.Fprintf(stdout, "installed %v into %s\n", s.Status().Running, o.rules)
		return 0
	}
	return serve(ctx, s, o.addr, stderr, s.Run)
}

// serve serves the agent's endpoints while work runs.
func serve(ctx context.Context, s *agent.Supervisor, addr string, stderr io.Writer, work func(context.Context) error) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "falcops-agent watch: %v\n", err)
		return 2
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	_, _ = fmt.Fprintf(stderr, "falcops-agent: serving /healthz /readyz /metrics on %s\n", ln.Addr())
	err = work(ctx)
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "falcops-agent watch: %v\n", err)
		return 1
	}
	return 0
}

func sidekickConfig(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("falcops-agent sidekick-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tmpl := fs.String("template", "/etc/falcosidekick-template/config.yaml", "falcosidekick's rendered configuration, with SA_TOKEN where the token goes")
	token := fs.String("token", "/var/run/secrets/falcosidekick/token", "the service account's token file (the token requestor's Secret)")
	out := fs.String("out", "/etc/falcosidekick/config.yaml", "where falcosidekick reads its configuration")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := agent.SidekickConfig(*tmpl, *token, *out); err != nil {
		_, _ = fmt.Fprintf(stderr, "falcops-agent sidekick-config: %v\n", err)
		return 1
	}
	return 0
}
