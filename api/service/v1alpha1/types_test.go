package v1alpha1

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
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
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// generic decodes JSON into maps, slices and scalars, for comparing
// documents semantically (key order and spacing do not matter).
func generic(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	return v
}

// TestRoundTrip decodes each example strictly, encodes it again and
// requires the same JSON document.
func TestRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
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
		if cases[want] == nil {
			t.Errorf("testdata/%s is missing", want)
		}
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := Decode(in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			out, err := Encode(cfg)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if !reflect.DeepEqual(generic(t, out), generic(t, in)) {
				t.Errorf("round trip changed the document:\n got %s\nwant %s", out, in)
			}
			// And once more through the Go value.
			again, err := Decode(out)
			if err != nil {
				t.Fatalf("Decode(Encode): %v", err)
			}
			if !reflect.DeepEqual(again, cfg) {
				t.Errorf("Decode(Encode(cfg)) = %+v, want %+v", again, cfg)
			}
		})
	}
}

func TestDecodeComplete(t *testing.T) {
	cfg, err := Decode(readTestdata(t, "complete.json"))
	if err != nil {
		t.Fatal(err)
	}
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
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestDecodeMinimal: absent fields stay nil and stay absent on encoding.
func TestDecodeMinimal(t *testing.T) {
	cfg, err := Decode(readTestdata(t, "minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (&FalcoServiceConfig{APIVersion: SchemeGroupVersion.String(), Kind: Kind}); !reflect.DeepEqual(cfg, want) {
		t.Errorf("Decode(minimal) = %+v, want %+v", cfg, want)
	}
	out, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"apiVersion":"falco.extensions.gardener.cloud/v1alpha1","kind":"FalcoServiceConfig"}`; string(out) != want {
		t.Errorf("Encode(minimal) = %s, want %s", out, want)
	}
}

func TestPinned(t *testing.T) {
	cfg, err := Decode(readTestdata(t, "pinned.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []PinnedRuleset{
		{Name: "falco-rules", Version: "5.0.0", Ref: "ghcr.io/falcosecurity/rules/falco-rules@sha256:0c4b5c8e9a2d1f3e6b7a8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"},
		{Name: "falco-incubating-rules", Version: "5.0.0", Ref: "ghcr.io/falcosecurity/rules/falco-incubating-rules@sha256:1d5c6d9f0b3e2a4f7c8b9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a"},
	}
	if !reflect.DeepEqual(cfg.Rules.Pinned, want) {
		t.Errorf("rules.pinned = %+v, want %+v", cfg.Rules.Pinned, want)
	}

	// Pins set in Go are written as rules.pinned and read back.
	cfg.Rules.Pinned = []PinnedRuleset{{Name: "falco-sandbox-rules", Version: "4.0.0", Ref: "r.example/rules/falco-sandbox-rules@sha256:ab"}}
	out, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`"pinned":[{"name":"falco-sandbox-rules","version":"4.0.0","ref":"r.example/rules/falco-sandbox-rules@sha256:ab"}]`)) {
		t.Errorf("Encode = %s, want rules.pinned with the new pin", out)
	}
	back, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Rules.Pinned, cfg.Rules.Pinned) {
		t.Errorf("pinned after round trip = %+v, want %+v", back.Rules.Pinned, cfg.Rules.Pinned)
	}

	// No pins: rules.pinned is omitted.
	cfg.Rules.Pinned = nil
	if out, _ := Encode(cfg); bytes.Contains(out, []byte("pinned")) {
		t.Errorf("Encode without pins = %s, want no pinned key", out)
	}
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
		{"fraction as integer", header + `, "tolerations": [{"tolerationSeconds": 1.5}]}`, `tolerationSeconds`},

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
			in, want := []byte(c.in), c.want
			if c.in == nilData {
				in = nil
			}
			cfg, err := Decode(in)
			if err == nil {
				t.Fatalf("Decode(%s) = %+v, want an error containing %q", in, cfg, want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Decode(%s) error = %q, want it to contain %q", in, err, want)
			}
			if cfg != nil {
				t.Errorf("Decode returned %+v with its error, want nil", cfg)
			}
		})
	}
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
			var before *FalcoServiceConfig
			if c.in != nil {
				before = c.in.DeepCopy()
			}
			out, err := Encode(c.in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Encode = %s, %v; want an error containing %q", out, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Errorf("Encode = %s, want %s", out, c.want)
			}
			if !reflect.DeepEqual(c.in, before) {
				t.Errorf("Encode changed its input: %+v, was %+v", c.in, before)
			}
		})
	}
}

func TestConstants(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Type, "shoot-falco-service"},
		{ShootLabel, "extensions.extensions.gardener.cloud/shoot-falco-service"},
		{GroupName, "falco.extensions.gardener.cloud"},
		{Kind, "FalcoServiceConfig"},
		{SchemeGroupVersion.String(), "falco.extensions.gardener.cloud/v1alpha1"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// fill sets every field reachable from v to a non-zero value: pointers are
// allocated, slices and maps get two entries. A field added to types.go is
// filled without touching this test.
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			fill(t, v.Index(i), n)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, k, n)
			fill(t, e, n)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		v.SetString("s" + strconv.Itoa(*n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	default:
		t.Fatalf("fill: add a case for %s", v.Type())
	}
}

// shared reports the first path at which a and b share memory.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), "(*"+path+")")
	case reflect.Struct:
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			return path
		}
	}
	return ""
}

func TestDeepCopyIndependent(t *testing.T) {
	in := &FalcoServiceConfig{}
	fill(t, reflect.ValueOf(in).Elem(), new(int))

	out := in.DeepCopy()
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("DeepCopy = %+v, want %+v", out, in)
	}
	if p := shared(reflect.ValueOf(in), reflect.ValueOf(out), "cfg"); p != "" {
		t.Fatalf("DeepCopy shares memory at %s", p)
	}

	// Changing the copy leaves the original alone.
	before, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	*out.FalcoVersion = "changed"
	(*out.NodeSelector)["new"] = "x"
	(*out.Tolerations)[0].Key = "changed"
	*(*out.Tolerations)[0].TolerationSeconds = -1
	*out.FalcoConfig.Resources.Requests.CPU = "changed"
	(*out.Rules.StandardRules)[0] = "changed"
	(*out.Rules.CustomRules)[0].ResourceName = "changed"
	out.Rules.Pinned[0].Ref = "changed"
	*(*out.Destinations)[1].Enabled = false
	if after, _ := json.Marshal(in); !bytes.Equal(before, after) {
		t.Errorf("changing the copy changed the original:\n%s\n%s", before, after)
	}

	// nil and empty are kept apart.
	if (*FalcoServiceConfig)(nil).DeepCopy() != nil {
		t.Error("DeepCopy(nil) != nil")
	}
	empty := []string{}
	c := (&FalcoServiceConfig{Rules: &Rules{StandardRules: &empty, Pinned: []PinnedRuleset{}}}).DeepCopy()
	if c.Rules.StandardRules == nil || *c.Rules.StandardRules == nil || c.Rules.Pinned == nil {
		t.Errorf("DeepCopy turned empty lists into nil: %+v", c.Rules)
	}
	if c.FalcoConfig != nil || c.Destinations != nil || c.Rules.CustomRules != nil {
		t.Errorf("DeepCopy turned nil into non-nil: %+v", c)
	}
}
