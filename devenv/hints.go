package devenv

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadyLine starts the line printed once everything runs.
const ReadyLine = "falcops dev is ready"

// EnvFile is the state file to source: KUBECONFIG for the garden, and the
// envtest kubectl on PATH.
func (e *Env) EnvFile() string { return e.path("env.sh") }

func (e *Env) writeEnvFile() error {
	data := fmt.Sprintf("# source this file: kubectl and falcops fleet then talk to the local garden\nexport KUBECONFIG=%s\nexport PATH=%s:$PATH\n",
		shellQuote(e.Kubeconfig("garden")), shellQuote(e.o.Assets))
	return os.WriteFile(e.EnvFile(), []byte(data), 0o644)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// PrintHints says what runs where and what to try.
func (e *Env) PrintHints(w io.Writer) error {
	if err := e.writeEnvFile(); err != nil {
		return err
	}
	r, state := e.o.Registry, e.o.State
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("\n%s: %d sample shoots in %d projects, state in %s\n\n", ReadyLine, len(e.samples)+boolInt(e.o.Shoots >= 2), len(Projects), state)
	p("  dashboard    http://%s/dashboard/\n", e.o.DashboardAddr)
	p("  registry     http://%s/%s (signed with %s)\n", r.Host, r.Prefix, strings.TrimSuffix(r.PublicKey, ".pub")+".key")
	p("  kubeconfigs  %s (garden), %s (seed), %s (shoot %s/%s)\n", e.Kubeconfig("garden"), e.Kubeconfig("seed"), e.Kubeconfig("shoot"),
		"garden-"+Projects[0], DemoShoot)
	p("  logs         %s\n\n", e.path("logs"))
	p("Try, in another terminal:\n\n")
	p("  source %s                # KUBECONFIG=garden, kubectl on PATH\n", e.EnvFile())
	p("  kubectl get shootrollouts -A\n")
	p("  falcops fleet\n")
	p("  falcops profile promote 0.44.1 --to supported --profile %s && kubectl apply -f %s\n", e.ProfilePath(), e.ProfilePath())
	p("  # a new ruleset version: raise version in rulesets/heartbeat/ruleset.yaml, then\n")
	p("  COSIGN_PASSWORD=$(cat %s) falcops publish rulesets/heartbeat --registry %s/%s --key %s --plain-http --index '' --profiles ''\n",
		strings.TrimSuffix(r.PublicKey, "cosign.pub")+"cosign.password", r.Host, r.Prefix, strings.TrimSuffix(r.PublicKey, ".pub")+".key")
	p("  kubectl --kubeconfig %s -n kube-system get daemonsets,configmaps\n\n", e.Kubeconfig("shoot"))
	p("Ctrl-C stops everything; the state stays for the next start. falcops dev --reset starts from scratch.\n")
	return nil
}
