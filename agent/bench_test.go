package agent_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falcops/falcops/agent"
	"github.com/falcops/falcops/agent/agenttest"
	"github.com/falcops/falcops/artifacts"
)

// BenchmarkPinChange is the latency of a pin change: from the mount's swap
// to the new set in the tree, through a running Supervisor (polling every
// 10 ms). The baseline, BenchmarkFalcoctlInstall, is the pull alone: the
// same falcoctl install of the same ref. make bench-agent prints the ratio.
func BenchmarkPinChange(b *testing.B) {
	l := agenttest.New(b, "heartbeat")
	pins := []string{"heartbeat@" + l.Digests["heartbeat"], "heartbeat@" + l.PublishVariant(b, "heartbeat", "1.1.0")}
	vol := agent.Tree{Root: filepath.Join(b.TempDir(), "etc-falcoctl")}
	config := l.Mount(b, vol, pins[0])
	s := &agent.Supervisor{Config: config, Installer: l.Installer(b), Tree: agent.Tree{Root: filepath.Join(b.TempDir(), "rules", "rules.d")}, Interval: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitRunning(b, s, pins[0])
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := pins[(i+1)%2]
		l.Mount(b, vol, next)
		waitRunning(b, s, next)
	}
}

func waitRunning(b *testing.B, s *agent.Supervisor, ref string) {
	deadline := time.After(2 * time.Minute)
	for {
		st := s.Status()
		if len(st.Running) == 1 && st.Running[0] == ref {
			return
		}
		select {
		case <-deadline:
			b.Fatalf("%s not running: %+v", ref, st)
		case <-time.After(time.Millisecond):
		}
	}
}

func BenchmarkFalcoctlInstall(b *testing.B) {
	l := agenttest.New(b, "heartbeat")
	inst := l.Installer(b)
	cfg := l.Config(b, "heartbeat@"+l.Digests["heartbeat"])
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		for _, d := range []string{"rules", "state"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		c := artifacts.FalcoctlConfig{IndexURL: "file://" + filepath.Join(filepath.Dir(cfg.Path), "index.yaml"), Refs: []string{cfg.Pins[0].Ref()}, RulesDir: filepath.Join(dir, "rules"), StateDir: filepath.Join(dir, "state")}
		data, err := c.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		// A rendered falcoctl config reads the mounted index as a file.
		data = []byte(strings.ReplaceAll(string(data), "backend: http", "backend: file"))
		path := filepath.Join(dir, "falcoctl.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(inst.Falcoctl, "artifact", "install", "--config", path, "--plain-http")
		cmd.Env = inst.Env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
