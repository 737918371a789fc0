package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/artifacts"
)

// ErrMismatch means falcoctl installed something else than the pinned
// layers hold: a file missing, different or extra.
var ErrMismatch = errors.New("installed files differ from the pinned layers")

// Installer installs the pins of a falcoctl configuration with the real
// falcoctl (which verifies each signature with the index entry's key) into
// a fresh directory, then checks every installed file byte for byte against
// the layers it fetches itself by digest, and that no other file exists.
type Installer struct {
	// Falcoctl is the falcoctl binary; Env its environment.
	Falcoctl string
	Env      []string
	// PlainHTTP talks HTTP to loopback registries (tests, dev).
	PlainHTTP bool
	// Work is a scratch directory; each install uses a fresh folder in it.
	Work string
	// Timeout bounds one install (falcoctl and the fetches); default 5m.
	Timeout time.Duration
}

// Install returns the files of the pinned set under their tree names: the
// pin's position (010-, 020-, ...) keeps the configured load order.
func (in Installer) Install(ctx context.Context, cfg Config) (map[string][]byte, error) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := os.MkdirAll(in.Work, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(in.Work, "install-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	want, err := in.expected(ctx, cfg, filepath.Join(dir, "expected"))
	if err != nil {
		return nil, err
	}
	rulesDir := filepath.Join(dir, "rules")
	if err := in.falcoctl(ctx, cfg, dir, rulesDir); err != nil {
		return nil, err
	}
	got, err := readFlat(rulesDir)
	if err != nil {
		return nil, err
	}
	return compare(cfg, want, got)
}

// expected fetches and unpacks each pinned layer: file name -> content and
// which pin it comes from.
func (in Installer) expected(ctx context.Context, cfg Config, dir string) (map[string]pinnedFile, error) {
	reg := registry{client: &http.Client{Transport: boundedTransport()}, plainHTTP: in.PlainHTTP, basic: cfg.Basic}
	want := map[string]pinnedFile{}
	for i, p := range cfg.Pins {
		layer, err := reg.layer(ctx, p)
		if err != nil {
			return nil, err
		}
		dest := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return nil, err
		}
		if _, err := artifacts.Extract(bytes.NewReader(layer), dest, artifacts.Limits{}); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Ref(), err)
		}
		files, err := readFlat(dest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Ref(), err)
		}
		for name, data := range files {
			if other, dup := want[name]; dup {
				return nil, fmt.Errorf("%s and %s both hold %s: falcoctl would overwrite one", other.pin.Ref(), p.Ref(), name)
			}
			want[name] = pinnedFile{pin: p, index: i, data: data}
		}
	}
	return want, nil
}

type pinnedFile struct {
	pin   Pin
	index int
	data  []byte
}

// falcoctl runs `falcoctl artifact install` with the mounted configuration,
// its install folders moved into dir.
func (in Installer) falcoctl(ctx context.Context, cfg Config, dir, rulesDir string) error {
	var doc map[string]any
	if err := readYAML(cfg.Path, &doc); err != nil {
		return err
	}
	artifact, _ := doc["artifact"].(map[string]any)
	install, _ := artifact["install"].(map[string]any)
	if install == nil {
		return fmt.Errorf("%s: no artifact.install", cfg.Path)
	}
	install["rulesfilesDir"] = rulesDir
	install["stateDir"] = filepath.Join(dir, "state")
	delete(artifact, "follow")
	if idx, ok := doc["indexes"].([]any); ok && len(idx) == 1 {
		if m, ok := idx[0].(map[string]any); ok {
			p, err := indexPath(cfg.Path, fmt.Sprint(m["url"]))
			if err != nil {
				return err
			}
			m["url"] = "file://" + p
			m["backend"] = "file"
		}
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	config := filepath.Join(dir, "falcoctl.yaml")
	if err := os.WriteFile(config, data, 0o600); err != nil {
		return err
	}
	for _, d := range []string{rulesDir, filepath.Join(dir, "state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	args := []string{"artifact", "install", "--config", config}
	if in.PlainHTTP {
		args = append(args, "--plain-http")
	}
	cmd := exec.CommandContext(ctx, in.Falcoctl, args...)
	cmd.Env = in.Env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("falcoctl artifact install: %w: %s", err, lastLines(out.String(), 5))
	}
	return nil
}

// compare checks got (what falcoctl installed) against want and returns
// the set under its tree names.
func compare(cfg Config, want map[string]pinnedFile, got map[string][]byte) (map[string][]byte, error) {
	var errs []error
	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, ok := want[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%w: %s is in no pinned layer", ErrMismatch, name))
		case !bytes.Equal(w.data, got[name]):
			errs = append(errs, fmt.Errorf("%w: %s differs from the layer of %s", ErrMismatch, name, w.pin.Ref()))
		}
	}
	for name, w := range want {
		if _, ok := got[name]; !ok {
			errs = append(errs, fmt.Errorf("%w: %s of %s was not installed", ErrMismatch, name, w.pin.Ref()))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	set := make(map[string][]byte, len(want))
	for name, w := range want {
		set[artifacts.LoadOrderName(w.index, name)] = w.data
	}
	return set, nil
}

// readFlat reads a folder of regular files; anything else is refused.
func readFlat(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a regular file", ErrMismatch, filepath.Join(dir, e.Name()))
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
	}
	return files, nil
}

func boundedTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte(" | ")))
}
