package agent

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/falcops/falcops/artifacts"
)

// ErrPins means the mounted falcoctl configuration does not name a set the
// agent may install: a ref that is not `name@sha256:<digest>`, a name the
// index lacks, or an index entry without a signature to verify.
var ErrPins = errors.New("invalid pins")

// maxConfigSize bounds the mounted falcoctl configuration and index.
const maxConfigSize = 1 << 20

// Pin is one ruleset the shoot runs: an index name and the digest the
// controller verified, with where the index says it lives.
type Pin struct {
	Name   string
	Digest string
	Entry  artifacts.IndexEntry
}

// Ref is the falcoctl ref of the pin.
func (p Pin) Ref() string { return p.Name + "@" + p.Digest }

// falcoctlFile is the part of a falcoctl.yaml the agent reads.
type falcoctlFile struct {
	Indexes []struct {
		Name string `yaml:"name"`
		URL  string `yaml:"url"`
	} `yaml:"indexes"`
	Artifact struct {
		Install struct {
			Refs []string `yaml:"refs"`
		} `yaml:"install"`
	} `yaml:"artifact"`
	Registry struct {
		Auth struct {
			Basic []BasicAuth `yaml:"basic"`
		} `yaml:"auth"`
	} `yaml:"registry"`
}

// BasicAuth is a registry login from falcoctl's registry.auth.basic.
type BasicAuth struct {
	Registry string `yaml:"registry"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// Config is a parsed falcoctl configuration: the pins in install order and
// the logins.
type Config struct {
	Path  string
	Pins  []Pin
	Basic []BasicAuth
}

var pinnedRef = regexp.MustCompile(`^([a-z0-9][a-z0-9._-]*)@(sha256:[a-f0-9]{64})$`)

// ReadConfig reads the falcoctl.yaml at path and the file:// index it names.
// Every ref must be a digest pin spelt by index name (falcoctl verifies
// signatures only for those) whose entry carries a cosign key or identity.
func ReadConfig(path string) (Config, error) {
	var f falcoctlFile
	if err := readYAML(path, &f); err != nil {
		return Config{}, err
	}
	if len(f.Indexes) != 1 {
		return Config{}, fmt.Errorf("%s: %w: want exactly one index, found %d", path, ErrPins, len(f.Indexes))
	}
	idxPath, err := indexPath(path, f.Indexes[0].URL)
	if err != nil {
		return Config{}, err
	}
	data, err := readBounded(idxPath)
	if err != nil {
		return Config{}, err
	}
	idx, err := artifacts.ParseIndex(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", idxPath, err)
	}
	cfg := Config{Path: path, Basic: f.Registry.Auth.Basic}
	for i, ref := range f.Artifact.Install.Refs {
		m := pinnedRef.FindStringSubmatch(ref)
		if m == nil {
			return Config{}, fmt.Errorf("%s: artifact.install.refs[%d] %q: %w: want name@sha256:<digest>", path, i, ref, ErrPins)
		}
		entry, ok := idx.Lookup(m[1])
		if !ok {
			return Config{}, fmt.Errorf("%s: %q: %w: not in the index %s", path, ref, ErrPins, idxPath)
		}
		if s := entry.Signature; s == nil || s.Cosign == nil || (s.Cosign.Key == "" && s.Cosign.CertificateIdentity == "" && s.Cosign.CertificateIdentityRegexp == "") {
			return Config{}, fmt.Errorf("%s: %q: %w: its index entry has no signature to verify", path, ref, ErrPins)
		}
		cfg.Pins = append(cfg.Pins, Pin{Name: m[1], Digest: m[2], Entry: entry})
	}
	return cfg, nil
}

// indexPath is the local file of a file:// index URL, relative to the
// configuration's folder when relative.
func indexPath(configPath, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" {
		return "", fmt.Errorf("%s: index url %q: %w: the agent reads a mounted file:// index", configPath, raw, ErrPins)
	}
	p := u.Path
	if u.Host != "" && u.Host != "localhost" {
		p = filepath.Join(u.Host, p) // file://relative/index.yaml
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(configPath), p)
	}
	return p, nil
}

func readYAML(path string, v any) error {
	data, err := readBounded(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}
