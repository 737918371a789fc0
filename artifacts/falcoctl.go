package artifacts

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FalcoctlConfig is what a falcoctl.yaml of a shoot says: one index
// (ours; without an indexes key falcoctl falls back to the public
// falcosecurity index and fails offline), rules files only, and the refs to
// install and follow by index name.
type FalcoctlConfig struct {
	// IndexURL is the URL of our index.yaml.
	IndexURL string
	// Refs are index names with a tag or digest (heartbeat:1,
	// falco-rules@sha256:...): falcoctl verifies signatures only for refs
	// spelt by index name.
	Refs []string
	// RulesDir and StateDir are where falcoctl writes the rules files and
	// its record of installed digests.
	RulesDir, StateDir string
	// Every is how often follow polls (empty: no follow section).
	Every string
	// Logins are registry.auth.basic: one user and password per registry.
	Logins []Login
}

// Login is one entry of falcoctl's registry.auth.basic.
type Login struct {
	Registry string `yaml:"registry"`
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

type falcoctlDirs struct {
	Refs          []string `yaml:"refs"`
	RulesfilesDir string   `yaml:"rulesfilesDir"`
	StateDir      string   `yaml:"stateDir"`
	Every         string   `yaml:"every,omitempty"`
	ResolveDeps   *bool    `yaml:"resolveDeps,omitempty"`
}

// Marshal renders the configuration as falcoctl reads it. Installs do not
// resolve dependencies: every ruleset a shoot runs is pinned explicitly.
func (c FalcoctlConfig) Marshal() ([]byte, error) {
	no := false
	artifact := map[string]any{
		"allowedTypes": []string{TypeRulesfile},
		"install":      falcoctlDirs{Refs: c.Refs, RulesfilesDir: c.RulesDir, StateDir: c.StateDir, ResolveDeps: &no},
	}
	if c.Every != "" {
		artifact["follow"] = falcoctlDirs{Refs: c.Refs, RulesfilesDir: c.RulesDir, StateDir: c.StateDir, Every: c.Every}
	}
	doc := map[string]any{
		"indexes":  []map[string]string{{"name": "falcops", "url": c.IndexURL, "backend": backend(c.IndexURL)}},
		"artifact": artifact,
	}
	if len(c.Logins) > 0 {
		doc["registry"] = map[string]any{"auth": map[string]any{"basic": c.Logins}}
	}
	return yaml.Marshal(doc)
}

// backend is falcoctl's index backend for url: file for file://, else http.
func backend(url string) string {
	if strings.HasPrefix(url, "file://") {
		return "file"
	}
	return "http"
}

// LoadOrderName is the name a rules file of the i-th pinned ruleset (from
// 0) gets in the directory Falco loads: Falco reads a rules directory's
// files sorted by name, so the prefix (010-, 020-, ...) keeps the pinned
// order. The agent's tree and the inline ConfigMaps both use it.
func LoadOrderName(i int, file string) string {
	return fmt.Sprintf("%03d-%s", 10*(i+1), file)
}
