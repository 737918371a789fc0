package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/oci"
)

var renderArgs = []string{"render", "testdata/render/shoot.yaml", "--profiles", "../../profiles/falco.yaml",
	"--config", "../../deploy/testdata/operator.yaml", "--resources", "testdata/render/resources"}

// TestRenderMatchesGolden: `falcops render` of a shoot with every rules
// option prints exactly deploy's golden file of that scenario, so the CLI
// and the library render the same objects.
func TestRenderMatchesGolden(t *testing.T) {
	code, out, errOut := runCLI(t, renderArgs...)
	require.Equal(t, exitOK, code, errOut)
	want, err := os.ReadFile("../../deploy/testdata/golden/all-rules.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(want), out)

	code, out, _ = runCLI(t, append(renderArgs, "-o", "json")...)
	require.Equal(t, exitOK, code)
	var list struct {
		APIVersion, Kind string
		Items            []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	assert.Equal(t, "v1", list.APIVersion)
	assert.Equal(t, "List", list.Kind)
	assert.Len(t, list.Items, 4) // falco, falco-custom-rules, the DaemonSet, the falcoctl Secret
}

// TestRenderBrokenCustomRules: a custom rules file that does not load on
// top of the base rulesets exits 1 naming configmap/file:line:col.
func TestRenderBrokenCustomRules(t *testing.T) {
	args := append([]string{}, renderArgs...)
	args[len(args)-1] = "testdata/render/broken"
	code, out, errOut := runCLI(t, append(args, "--base", "../../rulesets/heartbeat")...)
	assert.Equal(t, exitInput, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "falco-team-rules/a_rules.yaml:3:81: error: expected blank or '(' after 'and'")
}

// TestRenderMissingPinAndBadFlags: a shoot without pins renders, and says
// which rulesets wait for their pin; bad usage exits 2.
func TestRenderMissingPinAndBadFlags(t *testing.T) {
	pins := t.TempDir() + "/pins.yaml"
	require.NoError(t, os.WriteFile(pins, []byte("[]\n"), 0o644))
	code, out, errOut := runCLI(t, append(renderArgs, "--pins", pins)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "render: no pin yet for falco-rules, gardener-tuning, heartbeat")
	assert.NotContains(t, out, "@sha256:")

	code, _, errOut = runCLI(t, "render", "testdata/render/shoot.yaml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--profiles is required")
	code, _, _ = runCLI(t, append(renderArgs, "-o", "xml")...)
	assert.Equal(t, exitUsage, code)
	code, _, errOut = runCLI(t, "render", "testdata/render/resources/team-rules.yaml", "--profiles", "../../profiles/falco.yaml")
	assert.Equal(t, exitInput, code)
	assert.True(t, strings.Contains(errOut, `kind "ConfigMap", want a Gardener Shoot`), errOut)
}

// TestRenderInlineFetchesVerifiedFiles: with delivery inline, render pulls
// each pin from the registry, verifies it with the configuration's key and
// prints its files in ConfigMaps; a configuration with another key is
// refused with exit 1.
func TestRenderInlineFetchesVerifiedFiles(t *testing.T) {
	r, _ := startRun(t, repoWith(t, "heartbeat"))
	dir := t.TempDir()
	key, err := os.ReadFile(r.publicKey)
	require.NoError(t, err)
	config := func(pem string) string {
		var b strings.Builder
		b.WriteString("apiVersion: config.falcops.io/v1alpha1\nkind: Configuration\nimages: {agent: falcops:test}\n")
		b.WriteString("rules:\n  delivery: inline\n  implies: {falco-rules: [heartbeat]}\n  cosignPublicKey: |\n")
		for _, l := range strings.Split(strings.TrimSpace(pem), "\n") {
			b.WriteString("    " + l + "\n")
		}
		path := filepath.Join(t.TempDir(), "operator.yaml")
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		return path
	}
	pins := filepath.Join(dir, "pins.yaml")
	require.NoError(t, os.WriteFile(pins, []byte("- {name: heartbeat, version: 2.0.0, ref: \""+r.host+"/falcops/heartbeat@"+r.digests["heartbeat"]+"\"}\n"), 0o644))
	args := []string{"render", "testdata/render/shoot.yaml", "--profiles", "../../profiles/falco.yaml", "--resources", "testdata/render/resources", "--pins", pins, "--plain-http"}
	code, out, errOut := runCLI(t, append(args, "--config", config(string(key)))...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "name: falco-heartbeat-rule")
	assert.Contains(t, out, "rule: Detect Falco Heartbeat")
	assert.NotContains(t, out, "name: falcoctl\n", "no falcoctl Secret inline")

	_, otherPub, err := oci.GenerateKeyPair(t.TempDir(), []byte("x"))
	require.NoError(t, err)
	other, err := os.ReadFile(otherPub)
	require.NoError(t, err)
	code, out, errOut = runCLI(t, append(args, "--config", config(string(other)))...)
	assert.Equal(t, exitInput, code, out)
	assert.Contains(t, errOut, "rules.pinned heartbeat")
}

// TestRenderDestinationSecrets: a destination Secret given in --resources
// reaches falcosidekick's configuration, as the extension reads it from
// the seed; without it render says what Gardener says; a manifest of
// another kind is refused with its file and document.
func TestRenderDestinationSecrets(t *testing.T) {
	dir := t.TempDir()
	shoot := strings.Replace(string(readFile(t, "testdata/render/shoot.yaml")), "      - name: stdout\n",
		"      - name: splunk\n        resourceSecretName: hec\n", 1)
	shoot = strings.Replace(shoot, "  resources:\n", "  resources:\n  - name: hec\n    resourceRef: {apiVersion: v1, kind: Secret, name: splunk-hec}\n", 1)
	shootPath := filepath.Join(dir, "shoot.yaml")
	require.NoError(t, os.WriteFile(shootPath, []byte(shoot), 0o644))
	res := filepath.Join(dir, "resources")
	require.NoError(t, os.MkdirAll(res, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(res, "team-rules.yaml"), readFile(t, "testdata/render/resources/team-rules.yaml"), 0o644))
	args := []string{"render", shootPath, "--profiles", "../../profiles/falco.yaml", "--config", "../../deploy/testdata/operator.yaml", "--resources", res, "-o", "json"}

	code, _, errOut := runCLI(t, args...)
	assert.Equal(t, exitInput, code)
	assert.Contains(t, errOut, "splunk event destination config hec not found in resources")

	require.NoError(t, os.WriteFile(filepath.Join(res, "hec.yaml"), []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: splunk-hec}\nstringData:\n  host: https://splunk.example:8088/services/collector/event\n  token: t0k\n"), 0o644))
	code, out, errOut := runCLI(t, args...)
	require.Equal(t, exitOK, code, errOut)
	var list struct{ Items []map[string]any }
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	var config []byte
	for _, it := range list.Items {
		meta := it["metadata"].(map[string]any)
		if it["kind"] == "Secret" && meta["name"] == "falcosidekick" {
			var err error
			config, err = base64.StdEncoding.DecodeString(it["data"].(map[string]any)["config.yaml"].(string))
			require.NoError(t, err)
		}
	}
	assert.Contains(t, string(config), "host: https://splunk.example:8088/services/collector/event")
	assert.Contains(t, string(config), "token: t0k")

	require.NoError(t, os.WriteFile(filepath.Join(res, "pod.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"), 0o644))
	code, _, errOut = runCLI(t, args...)
	assert.Equal(t, exitInput, code)
	assert.Contains(t, errOut, `pod.yaml: document 1: kind "Pod": want a ConfigMap or a Secret`)
}
