package clitest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/Masterminds/semver/v3"
	"go.yaml.in/yaml/v3"
)

// FalcoVersionsStub serves Falco's /versions document on 127.0.0.1 for the
// rest of the test and returns its URL (http://127.0.0.1:PORT/versions), the
// value for falcoctl's --falco-versions / artifact.follow.falcoversions.
//
// engineSemver is the engine version as Falco 0.37+ reports it ("0.55.0");
// engine_version is its minor number as a string ("55"), as in Falco. The
// other keys carry fixed, plausible values.
func FalcoVersionsStub(t testing.TB, engineSemver string) string {
	t.Helper()
	v, err := semver.StrictNewVersion(engineSemver)
	if err != nil {
		t.Fatalf("FalcoVersionsStub: engine version %q: %v", engineSemver, err)
	}
	body, err := json.Marshal(map[string]any{
		"falco_version":          "0.42.0",
		"libs_version":           "0.22.0",
		"plugin_api_version":     "3.11.0",
		"driver_api_version":     "8.0.0",
		"driver_schema_version":  "3.0.0",
		"default_driver_version": "9.0.0+driver",
		"engine_version":         strconv.FormatUint(v.Minor(), 10),
		"engine_version_semver":  v.String(),
		"plugin_versions":        map[string]any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /versions", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/versions"
}

// IndexEntry is one entry of a falcoctl index.yaml (shared/reference
// falcoctl-artifacts.md, section 5.1), reduced to what tests need.
type IndexEntry struct {
	Name       string     `yaml:"name"`
	Type       string     `yaml:"type"`
	Registry   string     `yaml:"registry"`
	Repository string     `yaml:"repository"`
	Signature  *Signature `yaml:"signature,omitempty"`
}

// Signature is an index entry's signature block; falcoctl understands only
// cosign.
type Signature struct {
	Cosign *CosignSignature `yaml:"cosign,omitempty"`
}

// CosignSignature holds the cosign verification settings of an index entry.
// For offline tests use Key (a path to cosign.pub) with IgnoreTlog.
type CosignSignature struct {
	Key                       string `yaml:"key,omitempty"`
	IgnoreTlog                bool   `yaml:"ignore-tlog"`
	CertificateOIDCIssuer     string `yaml:"certificate-oidc-issuer,omitempty"`
	CertificateIdentityRegexp string `yaml:"certificate-identity-regexp,omitempty"`
}

// FalcoctlOptions describes the falcoctl.yaml written by [FalcoctlConfig].
// Empty directories default to subdirectories of the config's directory
// (rulesfiles, plugins, assets, state), which are created.
type FalcoctlOptions struct {
	// Index is written to index.yaml next to the config; the config's only
	// index, named "local", points at it with a file:// URL.
	Index []IndexEntry
	// AllowedTypes is artifact.allowedTypes; default [rulesfile].
	AllowedTypes []string
	// RulesfilesDir, PluginsDir, AssetsDir and StateDir are used for both
	// install and follow.
	RulesfilesDir, PluginsDir, AssetsDir, StateDir string
	// FalcoVersions is artifact.follow.falcoversions, e.g. from
	// [FalcoVersionsStub].
	FalcoVersions string
	// Every is artifact.follow.every (a Go duration); empty keeps falcoctl's
	// default.
	Every string
}

// FalcoctlConfig writes dir/falcoctl.yaml and dir/index.yaml as described by
// o and returns the path of falcoctl.yaml, for `falcoctl --config`. The
// config names only the local index, so falcoctl never reaches for the
// public falcosecurity index.
func FalcoctlConfig(t testing.TB, dir string, o FalcoctlOptions) string {
	t.Helper()
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	subdir := func(path *string, name string) string {
		if *path == "" {
			*path = filepath.Join(dir, name)
		}
		if err := os.MkdirAll(*path, 0o755); err != nil {
			t.Fatal(err)
		}
		return *path
	}
	rules := subdir(&o.RulesfilesDir, "rulesfiles")
	plugins := subdir(&o.PluginsDir, "plugins")
	assets := subdir(&o.AssetsDir, "assets")
	state := subdir(&o.StateDir, "state")
	if len(o.AllowedTypes) == 0 {
		o.AllowedTypes = []string{"rulesfile"}
	}
	if o.Index == nil {
		o.Index = []IndexEntry{}
	}

	indexPath := filepath.Join(dir, "index.yaml")
	writeYAML(t, indexPath, o.Index)

	follow := map[string]any{
		"rulesfilesDir": rules,
		"pluginsDir":    plugins,
		"assetsDir":     assets,
		"stateDir":      state,
	}
	if o.FalcoVersions != "" {
		follow["falcoversions"] = o.FalcoVersions
	}
	if o.Every != "" {
		follow["every"] = o.Every
	}
	cfg := map[string]any{
		"indexes": []map[string]string{{"name": "local", "url": "file://" + indexPath, "backend": "file"}},
		"artifact": map[string]any{
			"allowedTypes": o.AllowedTypes,
			"install": map[string]any{
				"resolveDeps":   false,
				"rulesfilesDir": rules,
				"pluginsDir":    plugins,
				"stateDir":      state,
			},
			"follow": follow,
		},
	}
	cfgPath := filepath.Join(dir, "falcoctl.yaml")
	writeYAML(t, cfgPath, cfg)
	return cfgPath
}

func writeYAML(t testing.TB, path string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
