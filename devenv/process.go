package devenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// StopTimeout is how long a child has after SIGTERM before it is killed.
const StopTimeout = 15 * time.Second

// child is one falcops binary run as a process of its own group, its
// output in state/logs/NAME.log.
type child struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// startChild starts bin; started is the time logged above its output.
func startChild(bin, state string, started time.Time, env, args []string) (*child, error) {
	name := filepath.Base(bin)
	if err := os.MkdirAll(filepath.Join(state, "logs"), 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(state, "logs", name+".log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "\n--- %s %s %v\n", started.UTC().Format(time.RFC3339), name, args)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	c := &child{name: name, cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	return c, nil
}

// stop sends SIGTERM to the child's process group, waits StopTimeout and
// then kills the group.
func (c *child) stop() error {
	defer func() { _ = c.log.Close() }()
	signalGroup(c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-c.done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		return nil
	case <-time.After(StopTimeout):
		signalGroup(c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
		return fmt.Errorf("%s did not stop within %s after SIGTERM: killed", c.name, StopTimeout)
	}
}

// waitReady polls url until it answers 200, the child exits or ctx ends.
func (c *child) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("%s exited before it was ready (see %s): %w", c.name, c.log.Name(), err)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w (see %s)", c.name, url, ctx.Err(), c.log.Name())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
