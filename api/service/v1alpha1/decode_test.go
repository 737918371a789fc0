package v1alpha1

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The testdata files are the FalcoServiceConfig examples of
// reference/gardener-falco-extension.md, converted from YAML to JSON (the
// form in which the API server hands out a Shoot's providerConfig):
//   - complete.json: the complete example of §3;
//   - minimal.json: a providerConfig with nothing but apiVersion and kind;
//   - defaulted.json: the minimal form (- type: shoot-falco-service) as
//     Gardener's mutator expands it (§3, last paragraph);
//   - pinned.json: falcops' rules.pinned.

const header = `{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig"`

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

// TestRoundTrip decodes each example strictly, encodes it again and
// requires the same JSON document (key order and spacing do not matter).
func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	cases := map[string][]byte{
		// Explicitly empty lists survive (Gardener's plain slices drop them).
		"empty lists": []byte(header + `, "tolerations": [], "rules": {"standard": [], "custom": []}, "destinations": []}`),
		// Explicit false and zero values survive.
		"explicit false": []byte(header + `, "autoUpdate": false, "heartbeatEvent": false, "tolerations": [{"operator": "Exists", "tolerationSeconds": 0}]}`),
		"empty objects":  []byte(header + `, "nodeSelector": {}, "rules": {}, "falcoConfig": {"resources": {"requests": {}}}}`),
	}
	for _, f := range files {
		cases[filepath.Base(f)] = readTestdata(t, filepath.Base(f))
	}
	for _, want := range []string{"complete.json", "minimal.json", "defaulted.json", "pinned.json"} {
		assert.Contains(t, cases, want, "testdata/%s is missing", want)
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := Decode(in)
			require.NoError(t, err, "Decode")
			out, err := Encode(cfg)
			require.NoError(t, err, "Encode")
			assert.JSONEq(t, string(in), string(out), "round trip changed the document")
			// And once more through the Go value.
			again, err := Decode(out)
			require.NoError(t, err, "Decode(Encode)")
			assert.Equal(t, cfg, again, "Decode(Encode(cfg))")
		})
	}
}

func TestDecodeComplete(t *testing.T) {
	cfg, err := Decode(readTestdata(t, "complete.json"))
	require.NoError(t, err)
	checks := []struct {
		name      string
		got, want any
	}{
		{"falcoVersion", *cfg.FalcoVersion, "0.42.1"},
		{"autoUpdate", *cfg.AutoUpdate, true},
		{"heartbeatEvent", *cfg.HeartbeatEvent, true},
		{"nodeSelector", *cfg.NodeSelector, map[string]string{"worker.gardener.cloud/pool": "security"}},
		{"tolerations", *cfg.Tolerations, []Toleration{{Key: "dedicated", Operator: "Equal", Value: "security", Effect: "NoSchedule"}}},
		{"requests.cpu", *cfg.FalcoConfig.Resources.Requests.CPU, "150m"},
		{"requests.memory", *cfg.FalcoConfig.Resources.Requests.Memory, "512Mi"},
		{"limits.cpu", *cfg.FalcoConfig.Resources.Limits.CPU, "1"},
		{"limits.memory", *cfg.FalcoConfig.Resources.Limits.Memory, "1Gi"},
		{"rules.standard", *cfg.Rules.StandardRules, []string{"falco-rules", "falco-incubating-rules"}},
		{"rules.custom", *cfg.Rules.CustomRules, []CustomRule{{ResourceName: "team-rules"}, {ShootConfigMap: "local-tuning"}}},
		{"rules.pinned", cfg.Rules.Pinned, []PinnedRuleset(nil)},
		{"destinations", len(*cfg.Destinations), 3},
		{"logging.enabled is nil", (*cfg.Destinations)[0].Enabled == nil, true},
		{"splunk.resourceSecretName", *(*cfg.Destinations)[1].ResourceSecretName, "splunk-hec"},
		{"central-splunk.enabled", *(*cfg.Destinations)[2].Enabled, false},
	}
	for _, c := range checks {
		assert.Equal(t, c.want, c.got, c.name)
	}
}

// TestDecodeMinimal: absent fields stay nil and stay absent on encoding.
func TestDecodeMinimal(t *testing.T) {
	cfg, err := Decode(readTestdata(t, "minimal.json"))
	require.NoError(t, err)
	assert.Equal(t, &FalcoServiceConfig{APIVersion: SchemeGroupVersion.String(), Kind: Kind}, cfg)
	out, err := Encode(cfg)
	require.NoError(t, err)
	assert.Equal(t, `{"apiVersion":"falco.extensions.gardener.cloud/v1alpha1","kind":"FalcoServiceConfig"}`, string(out))
}

func TestPinned(t *testing.T) {
	cfg, err := Decode(readTestdata(t, "pinned.json"))
	require.NoError(t, err)
	want := []PinnedRuleset{
		{Name: "falco-rules", Version: "5.0.0", Ref: "ghcr.io/falcosecurity/rules/falco-rules@sha256:0c4b5c8e9a2d1f3e6b7a8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"},
		{Name: "falco-incubating-rules", Version: "5.0.0", Ref: "ghcr.io/falcosecurity/rules/falco-incubating-rules@sha256:1d5c6d9f0b3e2a4f7c8b9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a"},
	}
	assert.Equal(t, want, cfg.Rules.Pinned)

	// Pins set in Go are written as rules.pinned and read back.
	cfg.Rules.Pinned = []PinnedRuleset{{Name: "falco-sandbox-rules", Version: "4.0.0", Ref: "r.example/rules/falco-sandbox-rules@sha256:ab"}}
	out, err := Encode(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(out), `"pinned":[{"name":"falco-sandbox-rules","version":"4.0.0","ref":"r.example/rules/falco-sandbox-rules@sha256:ab"}]`)
	back, err := Decode(out)
	require.NoError(t, err)
	assert.Equal(t, cfg.Rules.Pinned, back.Rules.Pinned, "pinned after round trip")

	// No pins: rules.pinned is omitted.
	cfg.Rules.Pinned = nil
	out, err = Encode(cfg)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "pinned")
}

func TestDecodeRejects(t *testing.T) {
	const nilData = "<nil>" // passed to Decode as nil
	cases := []struct {
		name string
		in   string
		want string // a substring of the error
	}{
		// The fields Gardener PR #277 removed.
		{"removed resources", header + `, "resources": "gardener"}`, `unknown field "resources" (removed`},
		{"removed falcoCtl", header + `, "falcoCtl": {"indexes": [{"name": "falcosecurity"}]}}`, `unknown field "falcoCtl" (removed`},
		{"removed gardener", header + `, "gardener": {"useFalcoRules": true}}`, `unknown field "gardener" (removed`},
		{"removed webhook", header + `, "webhook": {"enabled": true, "address": "https://x"}}`, `unknown field "webhook" (removed`},

		// Unknown fields anywhere, with their path.
		{"unknown top-level", header + `, "falcoVersions": "0.42.1"}`, `unknown field "falcoVersions"`},
		{"unknown in rules", header + `, "rules": {"standrad": ["falco-rules"]}}`, `unknown field "rules.standrad"`},
		{"unknown in custom rule", header + `, "rules": {"custom": [{"resourceName": "a"}, {"configMap": "b"}]}}`, `unknown field "rules.custom[1].configMap"`},
		{"unknown in pin", header + `, "rules": {"pinned": [{"name": "falco-rules", "digest": "sha256:ab"}]}}`, `unknown field "rules.pinned[0].digest"`},
		{"unknown in destination", header + `, "destinations": [{"name": "logging"}, {"name": "splunk", "secret": "s"}]}`, `unknown field "destinations[1].secret"`},
		{"unknown in toleration", header + `, "tolerations": [{"key": "a", "effects": "NoSchedule"}]}`, `unknown field "tolerations[0].effects"`},
		{"unknown in resources", header + `, "falcoConfig": {"resources": {"requests": {"gpu": "1"}}}}`, `unknown field "falcoConfig.resources.requests.gpu"`},
		{"resources under falcoConfig only", header + `, "falcoConfig": {"resources": {"requests": {}}, "driver": "kmod"}}`, `unknown field "falcoConfig.driver"`},
		// encoding/json alone would accept these (it matches names case-insensitively).
		{"wrong case top-level", header + `, "FalcoVersion": "0.42.1"}`, `unknown field "FalcoVersion"`},
		{"wrong case nested", header + `, "rules": {"Standard": ["falco-rules"]}}`, `unknown field "rules.Standard"`},
		{"wrong case apiVersion", `{"apiversion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig"}`, `unknown field "apiversion"`},

		// Duplicates (Gardener's strict decoder rejects them too).
		{"duplicate field", header + `, "falcoVersion": "0.41.0", "falcoVersion": "0.42.1"}`, `duplicate field "falcoVersion"`},
		{"duplicate nested field", header + `, "destinations": [{"name": "a", "name": "b"}]}`, `duplicate field "destinations[0].name"`},
		{"duplicate map key", header + `, "nodeSelector": {"a": "1", "a": "2"}}`, `duplicate field "nodeSelector[\"a\"]"`},
		{"duplicate map key with dots", header + `, "nodeSelector": {"a.b/c": "1", "x": "2", "a.b/c": "3"}}`, `duplicate field "nodeSelector[\"a.b/c\"]"`},

		// apiVersion and kind.
		{"wrong apiVersion", `{"apiVersion": "falco.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig"}`, `field "apiVersion": got "falco.gardener.cloud/v1alpha1", want "falco.extensions.gardener.cloud/v1alpha1"`},
		{"missing apiVersion", `{"kind": "FalcoServiceConfig"}`, `field "apiVersion": got ""`},
		{"wrong kind", `{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoProfile"}`, `field "kind": got "FalcoProfile", want "FalcoServiceConfig"`},
		{"missing kind", `{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1"}`, `field "kind": got ""`},

		// Types, with the path of the bad value.
		{"bool as string", header + `, "autoUpdate": "yes"}`, `field "autoUpdate": got a string, want a boolean`},
		{"bool in list", header + `, "destinations": [{"name": "a"}, {"name": "b", "enabled": "no"}]}`, `field "destinations[1].enabled": got a string, want a boolean`},
		{"list as string", header + `, "rules": {"standard": "falco-rules"}}`, `field "rules.standard": got a string, want an array`},
		{"object as list", header + `, "falcoConfig": [{"resources": {}}]}`, `field "falcoConfig": got an array, want an object`},
		{"string as number", header + `, "falcoVersion": 0.42}`, `field "falcoVersion": got a number, want a string`},
		{"map value as object", header + `, "nodeSelector": {"pool": {"name": "x"}}}`, `field "nodeSelector[\"pool\"]": got an object, want a string`},
		{"list item as number", header + `, "rules": {"standard": ["a", 1]}}`, `field "rules.standard[1]": got a number, want a string`},
		{"fraction as integer", header + `, "tolerations": [{"tolerationSeconds": 1.5}]}`, `tolerationSeconds`},
		{"integer out of range", header + `, "tolerations": [{"tolerationSeconds": 1e400}]}`, `field "tolerations[0].tolerationSeconds": cannot decode JSON number 1e400 into int64`},

		// Not one JSON object.
		{"nil", nilData, "providerConfig is empty"},
		{"empty", ``, "providerConfig is empty"},
		{"blank", " \n\t", "providerConfig is empty"},
		{"null", `null`, "providerConfig is not a JSON object but null"},
		{"list", `[]`, "providerConfig is not a JSON object but an array"},
		{"string", `"FalcoServiceConfig"`, "providerConfig is not a JSON object but a string"},
		{"syntax error", header + `, "autoUpdate": tru}`, "invalid providerConfig"},
		{"truncated", header + `, "rules": {"standard": [`, "invalid providerConfig"},
		{"trailing data", header + `} {}`, "data after the JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			if c.in == nilData {
				in = nil
			}
			cfg, err := Decode(in)
			require.Error(t, err, "Decode(%s) = %+v", in, cfg)
			assert.Contains(t, err.Error(), c.want)
			assert.Nil(t, cfg, "Decode returned a config with its error")
		})
	}
}

// TestErrorTexts pins every text Decode and Encode can return, in full:
// they are API (see the constants in decode.go). Unknown and duplicate
// fields are sigs.k8s.io/json's texts, so a new version of the library
// that words them differently fails here.
func TestErrorTexts(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{``, `providerConfig is empty`},
		{`null`, `providerConfig is not a JSON object but null`},
		{`1`, `providerConfig is not a JSON object but a number`},
		{`true`, `providerConfig is not a JSON object but a boolean`},
		{`x`, `invalid providerConfig: invalid character 'x' looking for beginning of value`},
		{header + `, "autoUpdate": tru}`, `invalid providerConfig at "autoUpdate": invalid character '}' in literal true (expecting 'e')`},
		{header + `, "rules": {"standard": [`, `invalid providerConfig at "rules.standard": unexpected EOF`},
		{header + `} {}`, `invalid providerConfig: data after the JSON object`},
		{header + `, "webhook": {}}`, `unknown field "webhook" (removed from FalcoServiceConfig by Gardener PR #277)`},
		{header + `, "rules": {"custom": [{"configMap": "b"}]}}`, `unknown field "rules.custom[0].configMap"`},
		{header + `, "nodeSelector": {"a": "1", "a": "2"}}`, `duplicate field "nodeSelector[\"a\"]"`},
		{header + `, "destinations": [{"name": "a"}, {"enabled": "no"}]}`, `field "destinations[1].enabled": got a string, want a boolean`},
		{header + `, "tolerations": [{"tolerationSeconds": 1.5}]}`, `field "tolerations[0].tolerationSeconds": cannot decode JSON number 1.5 into int64`},
		{`{"apiVersion": "v1", "kind": "FalcoServiceConfig"}`, `field "apiVersion": got "v1", want "falco.extensions.gardener.cloud/v1alpha1"`},
		{`{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "Shoot"}`, `field "kind": got "Shoot", want "FalcoServiceConfig"`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			_, err := Decode([]byte(c.in))
			require.EqualError(t, err, c.want)
		})
	}
	_, err := Encode(nil)
	require.EqualError(t, err, "cannot encode a nil FalcoServiceConfig")
}

func TestEncode(t *testing.T) {
	v := "0.42.1"
	cases := []struct {
		name    string
		in      *FalcoServiceConfig
		want    string // the exact output, or "" when an error is expected
		wantErr string
	}{
		{"nil", nil, "", "nil FalcoServiceConfig"},
		{"fills apiVersion and kind", &FalcoServiceConfig{FalcoVersion: &v},
			`{"apiVersion":"falco.extensions.gardener.cloud/v1alpha1","kind":"FalcoServiceConfig","falcoVersion":"0.42.1"}`, ""},
		{"keeps matching apiVersion and kind", &FalcoServiceConfig{APIVersion: SchemeGroupVersion.String(), Kind: Kind},
			`{"apiVersion":"falco.extensions.gardener.cloud/v1alpha1","kind":"FalcoServiceConfig"}`, ""},
		{"wrong apiVersion", &FalcoServiceConfig{APIVersion: "v1"}, "", `field "apiVersion": got "v1"`},
		{"wrong kind", &FalcoServiceConfig{Kind: "Shoot"}, "", `field "kind": got "Shoot"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := c.in.DeepCopy()
			out, err := Encode(c.in)
			if c.wantErr != "" {
				require.Error(t, err, "Encode = %s", out)
				assert.Contains(t, err.Error(), c.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, string(out))
			assert.Equal(t, before, c.in, "Encode changed its input")
		})
	}
}
