package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
