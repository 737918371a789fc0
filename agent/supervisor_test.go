package agent_test

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/agent"
	"github.com/falcops/falcops/agent/agenttest"
	"github.com/falcops/falcops/oci/ocitest"
)

func waitStatus(t *testing.T, s *agent.Supervisor, ok func(agent.Status) bool) agent.Status {
	t.Helper()
	require.Eventually(t, func() bool { return ok(s.Status()) }, time.Minute, 20*time.Millisecond, "status: %+v", s.Status())
	return s.Status()
}

// TestSupervisorFollowsThePins: the agent installs the mounted pins, swaps
// in a changed set while a reader loops over the tree (never a mix), drops
// files the new set lacks, and keeps the running set when a pin cannot be
// verified, saying so in /readyz and /metrics.
func TestSupervisorFollowsThePins(t *testing.T) {
	l := agenttest.New(t, "heartbeat", "custom-example")
	vol := agent.Tree{Root: filepath.Join(t.TempDir(), "etc-falcoctl")}
	config := l.Mount(t, vol, "custom-example@"+l.Digests["custom-example"], "heartbeat@"+l.Digests["heartbeat"])
	rules := agent.Tree{Root: filepath.Join(t.TempDir(), "rules.d")}
	s := &agent.Supervisor{Config: config, Installer: l.Installer(t), Tree: rules, Interval: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	waitStatus(t, s, agent.Status.Ready)
	first, err := rules.Files()
	require.NoError(t, err)
	assert.Len(t, first, 3)

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a reader that must see the old set or the new one, whole
		defer wg.Done()
		for !stop.Load() {
			files, err := rules.Files()
			if !assert.NoError(t, err) {
				return
			}
			_, custom := files["010-custom_rules.yaml"]
			assert.True(t, len(files) == 3 && custom || len(files) == 1 && !custom, "a mixed or partial set: %d files", len(files))
		}
	}()
	v2 := l.PublishVariant(t, "heartbeat", "1.1.0")
	l.Mount(t, vol, "heartbeat@"+v2)
	st := waitStatus(t, s, func(st agent.Status) bool { return st.Ready() && st.Running[0] == "heartbeat@"+v2 })
	stop.Store(true)
	wg.Wait()
	assert.Equal(t, 2, st.Swaps)
	second, err := rules.Files()
	require.NoError(t, err)
	require.Len(t, second, 1, "custom-example's files are gone")
	assert.Contains(t, string(second["010-heartbeat_rules.yaml"]), "# variant 1.1.0")
	_, err = os.Lstat(filepath.Join(rules.Root, "010-custom_rules.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// An unsigned digest: refused, the running set stays, readiness says why.
	unsigned := ocitest.RulesetArtifact(t, "heartbeat", "9.9.9", "0.31.0", "unsigned")
	desc, err := l.Opts.Client.Push(ctx, l.Opts.Registry.Repo("heartbeat"), unsigned, "9.9.9")
	require.NoError(t, err)
	l.Mount(t, vol, "heartbeat@"+desc.Digest.String())
	st = waitStatus(t, s, func(st agent.Status) bool { return st.Error != "" })
	assert.Equal(t, []string{"heartbeat@" + v2}, st.Running)
	assert.Contains(t, st.Error, "no signatures found")
	time.Sleep(10 * s.Interval)
	assert.LessOrEqual(t, s.Status().Refusals, 4, "a refused mount is retried with backoff, not at every check")
	after, err := rules.Files()
	require.NoError(t, err)
	assert.Equal(t, second, after, "the running set is untouched")

	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/readyz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Contains(t, string(body), desc.Digest.String())
	resp, err = srv.Client().Get(srv.URL + "/metrics")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(body), "falcops_agent_ready 0")
	assert.True(t, strings.Contains(string(body), `falcops_agent_running_ruleset{name="heartbeat",digest="`+v2+`"} 1`), string(body))
}
