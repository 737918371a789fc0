package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Supervisor keeps the tree on the pins of the mounted falcoctl
// configuration: when the mount changes (kubelet swaps a Secret volume
// atomically too), it installs the new set and swaps it in; any failure
// keeps the running set and is reported.
type Supervisor struct {
	// Config is the mounted falcoctl.yaml.
	Config    string
	Installer Installer
	Tree      Tree
	// Interval is how often the mount is checked (default 2s).
	Interval time.Duration
	Log      *slog.Logger
	// Heartbeat, when set, adds its counters to /metrics (the caller runs it).
	Heartbeat *Heartbeat
	// Shoot, when set, stages the shoot's own rules ConfigMaps after each
	// install and whenever they change.
	Shoot *ShootRules

	mu     sync.Mutex
	status Status
}

// Status is what the agent reports: the pins running, and the last refusal.
type Status struct {
	// Running are the refs of the set in the tree.
	Running []string `json:"running"`
	// Wanted are the refs the mount names.
	Wanted []string `json:"wanted"`
	// Error is why Wanted is not running, if it is not.
	Error    string `json:"error,omitempty"`
	Swaps    int    `json:"swaps"`
	Refusals int    `json:"refusals"`
	// ShootRefused are the findings of the shoot rules files left out.
	ShootRefused []string `json:"shootRefused,omitempty"`
}

// Ready reports whether the running set is the wanted one.
func (s Status) Ready() bool {
	return s.Error == "" && len(s.Wanted) > 0 && strings.Join(s.Running, ",") == strings.Join(s.Wanted, ",")
}

// Status returns a copy of the current status.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Running = append([]string(nil), st.Running...)
	st.Wanted = append([]string(nil), st.Wanted...)
	st.ShootRefused = append([]string(nil), st.ShootRefused...)
	return st
}

// Once installs and swaps in the mounted pins once (the init container).
func (s *Supervisor) Once(ctx context.Context) error {
	if err := s.sync(ctx, nil); err != nil {
		return err
	}
	return s.stageShoot()
}

// stageShoot stages the shoot's rules ConfigMaps, if any, and reports the
// files left out.
func (s *Supervisor) stageShoot() error {
	if s.Shoot == nil {
		return nil
	}
	refused, err := s.Shoot.Stage()
	if err != nil {
		s.logger().Error("staging the shoot's rules ConfigMaps failed; the staged files stay", "error", err)
		return err
	}
	texts := make([]string, len(refused))
	for i, f := range refused {
		texts[i] = f.String()
		s.logger().Error("shoot rules file left out: it does not load; Falco loads the others", "finding", texts[i])
	}
	s.mu.Lock()
	s.status.ShootRefused = texts
	s.mu.Unlock()
	return nil
}

// Run syncs now and whenever the mount changes, until ctx ends. A mount
// that was refused is retried with backoff (1, 2, 4, ... up to 64
// intervals), not at every check: registry outages pass, logs stay readable.
func (s *Supervisor) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var seen, refused, shootSeen string
	wait, backoff := 0, 1
	for {
		if s.Shoot != nil && seen != "" {
			// After the pins ran once: Falco loads the shoot files after them.
			if sfp, err := fingerprintDirs(append(slices.Clone(s.Shoot.Dirs), s.Shoot.Before...)); err == nil && sfp != shootSeen {
				if s.stageShoot() == nil {
					shootSeen = sfp
				}
			}
		}
		fp, err := fingerprint(s.Config)
		switch {
		case err == nil && fp == seen:
		case err == nil && fp == refused && wait > 0:
			wait--
		default:
			if err = s.sync(ctx, err); err == nil {
				seen, refused, backoff = fp, "", 1
			} else {
				if fp == refused {
					backoff = min(2*backoff, 64)
				} else {
					backoff = 1
				}
				refused, wait = fp, backoff
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// sync installs the mount's pins and swaps them in; err is a failure to
// read the mount, reported as a refusal.
func (s *Supervisor) sync(ctx context.Context, err error) error {
	var cfg Config
	if err == nil {
		cfg, err = ReadConfig(s.Config)
	}
	wanted := refs(cfg.Pins)
	if err == nil {
		var set map[string][]byte
		if set, err = s.Installer.Install(ctx, cfg); err == nil {
			var changed bool
			if changed, err = s.Tree.Swap(set); err == nil {
				s.record(wanted, wanted, nil, changed)
				return nil
			}
		}
	}
	s.record(nil, wanted, err, false)
	return err
}

func (s *Supervisor) record(running, wanted []string, err error, swapped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Wanted = wanted
	if err != nil {
		s.status.Error = err.Error()
		s.status.Refusals++
		s.logger().Error("pins refused; the running set stays", "wanted", strings.Join(wanted, " "), "running", strings.Join(s.status.Running, " "), "error", err)
		return
	}
	s.status.Running, s.status.Error = running, ""
	if swapped {
		s.status.Swaps++
		s.logger().Info("rules swapped in; Falco reloads them", "running", strings.Join(running, " "))
	}
}

func (s *Supervisor) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Handler serves /healthz (the agent runs), /readyz (the wanted pins run)
// and /metrics (Prometheus text format).
func (s *Supervisor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		st := s.Status()
		if !st.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: wanted %s, running %s: %s\n", strings.Join(st.Wanted, " "), strings.Join(st.Running, " "), st.Error)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		st := s.Status()
		ready := 0
		if st.Ready() {
			ready = 1
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = fmt.Fprintf(w, "# HELP falcops_agent_swaps_total Rule sets swapped in.\n# TYPE falcops_agent_swaps_total counter\nfalcops_agent_swaps_total %d\n", st.Swaps)
		_, _ = fmt.Fprintf(w, "# HELP falcops_agent_refusals_total Pin changes refused (the running set stayed).\n# TYPE falcops_agent_refusals_total counter\nfalcops_agent_refusals_total %d\n", st.Refusals)
		_, _ = fmt.Fprintf(w, "# HELP falcops_agent_ready Whether the wanted pins run.\n# TYPE falcops_agent_ready gauge\nfalcops_agent_ready %d\n", ready)
		for _, r := range st.Running {
			name, dgst, _ := strings.Cut(r, "@")
			_, _ = fmt.Fprintf(w, "falcops_agent_running_ruleset{name=%q,digest=%q} 1\n", name, dgst)
		}
		if s.Heartbeat != nil {
			s.Heartbeat.Metrics(w)
		}
		if s.Shoot != nil {
			_, _ = fmt.Fprintf(w, "# HELP falcops_agent_shoot_rules_refused Findings in the shoot's rules ConfigMaps that kept a file out.\n# TYPE falcops_agent_shoot_rules_refused gauge\nfalcops_agent_shoot_rules_refused %d\n", len(st.ShootRefused))
		}
	})
	return mux
}

func refs(pins []Pin) []string {
	out := make([]string, len(pins))
	for i, p := range pins {
		out[i] = p.Ref()
	}
	return out
}

// fingerprintDirs hashes the files of the directories.
func fingerprintDirs(dirs []string) (string, error) {
	h := sha256.New()
	for _, d := range dirs {
		files, err := rulesFiles(d, d+"/")
		if err != nil {
			return "", err
		}
		for _, f := range files {
			_, _ = fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
			h.Write(f.Data)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fingerprint hashes the configuration and every file beside it (the
// index, keys), read through the mount's current ..data.
func fingerprint(config string) (string, error) {
	h := sha256.New()
	dir := filepath.Dir(config)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), "..") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir // kubelet's timestamped copies: read through the links
			}
			return nil // ..data itself
		}
		if d.IsDir() {
			return nil
		}
		data, err := readBounded(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		_, _ = fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
