package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sync/atomic"
	"time"
)

// HeartbeatMarker is the only argument of the process the heartbeat runs;
// the heartbeat ruleset's rule Detect Falco Heartbeat fires on its exec.
const HeartbeatMarker = "falcops-heartbeat"

// Heartbeat runs the agent's own binary with HeartbeatMarker at every
// multiple of Every on the wall clock (every full hour for 1h, as
// Gardener's heartbeat sidecar does). It needs no shell and no other
// binary, so it works in a distroless image.
type Heartbeat struct {
	Every time.Duration
	// Exe is the binary to run (default: this process's own).
	Exe string
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time

	beats, failures atomic.Int64
}

// Run beats until ctx ends.
func (h *Heartbeat) Run(ctx context.Context) error {
	if h.Every <= 0 {
		return fmt.Errorf("heartbeat: interval %s is not positive", h.Every)
	}
	exe := h.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
	}
	now := h.Now
	if now == nil {
		now = time.Now //nolint:forbidigo // the heartbeat runs on the wall clock, at full hours
	}
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for {
		t := now()
		wait := t.Truncate(h.Every).Add(h.Every).Sub(t)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		beatCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := exec.CommandContext(beatCtx, exe, HeartbeatMarker).Run()
		cancel()
		if err != nil {
			h.failures.Add(1)
			log.Error("heartbeat failed", "error", err)
			continue
		}
		h.beats.Add(1)
		log.Info("heartbeat", "marker", HeartbeatMarker)
	}
}

// Beats and Failures count the heartbeats run and failed.
func (h *Heartbeat) Beats() int64    { return h.beats.Load() }
func (h *Heartbeat) Failures() int64 { return h.failures.Load() }

// Metrics writes the heartbeat counters in Prometheus text format.
func (h *Heartbeat) Metrics(w http.ResponseWriter) {
	_, _ = fmt.Fprintf(w, "# HELP falcops_agent_heartbeats_total Heartbeat marker processes run.\n# TYPE falcops_agent_heartbeats_total counter\nfalcops_agent_heartbeats_total %d\n", h.Beats())
	_, _ = fmt.Fprintf(w, "# HELP falcops_agent_heartbeat_failures_total Heartbeat marker processes that failed.\n# TYPE falcops_agent_heartbeat_failures_total counter\nfalcops_agent_heartbeat_failures_total %d\n", h.Failures())
}
