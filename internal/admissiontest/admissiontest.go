package admissiontest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"
)

// ControllerUser is the falcops-controller username every case trusts.
const ControllerUser = "system:serviceaccount:falcops-system:falcops-controller"

// Case is one admission request and its answer.
type Case struct {
	// Name says what is asked; Mirrors names the Gardener test or code path
	// it mirrors, or "falcops" for falcops' additions.
	Name    string `json:"name"`
	Mirrors string `json:"mirrors"`
	// Webhook is mutate, validate or both (default).
	Webhook string `json:"webhook"`
	// Kind is Shoot (default), Seed or FalcoProfile.
	Kind string `json:"kind"`
	// Object is the new object's state; Old, when set, makes it an UPDATE.
	Object State  `json:"object"`
	Old    *State `json:"old"`
	// Operator is the operator configuration's fields.
	Operator map[string]any `json:"operator"`
	// Garden are the garden objects besides the test profile.
	Garden []map[string]any `json:"garden"`
	// NoProfile leaves the test profile out of the garden.
	NoProfile bool `json:"noProfile"`
	// Base are rules files (relative to the repository) custom rules load
	// after.
	Base []string `json:"base"`
	// User is the requesting user (default shoot-owner).
	User string `json:"user"`
	Want Want   `json:"want"`

	file string
}

// State is a Shoot or Seed, written compactly, or a whole object.
type State struct {
	// Manifest, when set, is the whole object (for FalcoProfiles).
	Manifest map[string]any `json:"manifest"`
	// Config is the providerConfig (without apiVersion and kind, which are
	// added); nil: none.
	Config map[string]any `json:"config"`
	// RawConfig is the providerConfig as it is (for decode errors).
	RawConfig map[string]any `json:"rawConfig"`
	// NoExtension: the object has no shoot-falco-service extension.
	NoExtension bool `json:"noExtension"`
	Disabled    bool `json:"disabled"`
	Deleting    bool `json:"deleting"`
	// Resources are spec.resources entries.
	Resources []map[string]any `json:"resources"`
	// Namespace of a Shoot (default garden-team).
	Namespace string `json:"namespace"`
}

// Want is the answer.
type Want struct {
	Allowed bool `json:"allowed"`
	// Message is the exact refusal text.
	Message string `json:"message"`
	// Config is the exact providerConfig after mutation (apiVersion and
	// kind added).
	Config map[string]any `json:"config"`
	// Warnings are texts the warnings contain, in order.
	Warnings []string `json:"warnings"`
}

func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ProfilePath is the test profile.
func ProfilePath() string { return filepath.Join(root(), "webhooks", "testdata", "profile.yaml") }

// Load reads every case.
func Load(t testing.TB) []Case {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root(), "webhooks", "testdata", "cases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	var out []Case
	names := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []Case
		if err := yaml.UnmarshalStrict(data, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cs {
			c.file = filepath.Base(f)
			if names[c.Name] || c.Mirrors == "" {
				t.Fatalf("%s: case %q: duplicate name or no mirrors", f, c.Name)
			}
			names[c.Name] = true
			out = append(out, c)
		}
	}
	return out
}

// Title is the case's subtest name.
func (c Case) Title() string { return strings.TrimSuffix(c.file, ".yaml") + "/" + c.Name }

func (c Case) kind() string {
	if c.Kind == "" {
		return "Shoot"
	}
	return c.Kind
}

// Which is the webhooks to run.
func (c Case) Which() string {
	if c.Webhook == "" {
		return "both"
	}
	return c.Webhook
}

// ObjectJSON is the new object.
func (c Case) ObjectJSON(t testing.TB) []byte { return c.Object.json(t, c.kind()) }

// OldJSON is the old object, nil for a CREATE.
func (c Case) OldJSON(t testing.TB) []byte {
	if c.Old == nil {
		return nil
	}
	return c.Old.json(t, c.kind())
}

func (s State) json(t testing.TB, kind string) []byte {
	t.Helper()
	if s.Manifest != nil {
		return mustJSON(t, s.Manifest)
	}
	meta := map[string]any{"name": "prod"}
	if kind == "Shoot" {
		ns := s.Namespace
		if ns == "" {
			ns = "garden-team"
		}
		meta["namespace"] = ns
		meta["labels"] = map[string]any{"extensions.extensions.gardener.cloud/shoot-falco-service": "true"}
	}
	if s.Deleting {
		meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
	}
	spec := map[string]any{"maintenance": map[string]any{"autoUpdate": map[string]any{"kubernetesVersion": true}}}
	if !s.NoExtension {
		ext := map[string]any{"type": "shoot-falco-service"}
		if s.Disabled {
			ext["disabled"] = true
		}
		switch {
		case s.RawConfig != nil:
			ext["providerConfig"] = s.RawConfig
		case s.Config != nil:
			pc := map[string]any{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig"}
			for k, v := range s.Config {
				pc[k] = v
			}
			ext["providerConfig"] = pc
		}
		spec["extensions"] = []any{map[string]any{"type": "other-extension"}, ext}
	}
	if s.Resources != nil {
		spec["resources"] = s.Resources
	}
	return mustJSON(t, map[string]any{"apiVersion": "core.gardener.cloud/v1beta1", "kind": kind, "metadata": meta, "spec": spec})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Username is the requesting user.
func (c Case) Username() string {
	if c.User == "" {
		return "shoot-owner"
	}
	return c.User
}

// Request is the AdmissionRequest the API server would send.
func (c Case) Request(t testing.TB) admission.Request {
	t.Helper()
	obj := c.ObjectJSON(t)
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(obj); err != nil {
		t.Fatal(err)
	}
	gvk := u.GroupVersionKind()
	req := admissionv1.AdmissionRequest{UID: "case", Kind: metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Name: u.GetName(), Namespace: u.GetNamespace(), Operation: admissionv1.Create, Object: k8sruntime.RawExtension{Raw: obj},
		UserInfo: authenticationv1.UserInfo{Username: c.Username()}}
	if old := c.OldJSON(t); old != nil {
		req.Operation, req.OldObject = admissionv1.Update, k8sruntime.RawExtension{Raw: old}
	}
	return admission.Request{AdmissionRequest: req}
}

// OperatorYAML is the operator configuration document; nil when the case
// has none.
func (c Case) OperatorYAML(t testing.TB) []byte {
	t.Helper()
	if c.Operator == nil {
		return nil
	}
	m := map[string]any{"apiVersion": "config.falcops.io/v1alpha1", "kind": "Configuration"}
	for k, v := range c.Operator {
		m[k] = v
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GardenObjects are the garden's objects, the test profile first.
func (c Case) GardenObjects(t testing.TB) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	if !c.NoProfile {
		data, err := os.ReadFile(ProfilePath())
		if err != nil {
			t.Fatal(err)
		}
		p := map[string]any{}
		if err := yaml.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: p})
	}
	for _, o := range c.Garden {
		out = append(out, &unstructured.Unstructured{Object: o})
	}
	return out
}

// GardenYAML is the garden objects as a YAML stream, without the profile.
func (c Case) GardenYAML(t testing.TB) []byte {
	t.Helper()
	var docs []string
	for _, o := range c.Garden {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return []byte(strings.Join(docs, "---\n"))
}

// Check compares a response and the patched object with the case's
// answer.
func (c Case) Check(t testing.TB, res admissionv1.AdmissionResponse, patched []byte) {
	t.Helper()
	if res.Allowed != c.Want.Allowed {
		msg := ""
		if res.Result != nil {
			msg = res.Result.Message
		}
		t.Fatalf("allowed = %v, want %v (message %q)", res.Allowed, c.Want.Allowed, msg)
	}
	if !c.Want.Allowed {
		if res.Result == nil || res.Result.Message != c.Want.Message {
			t.Fatalf("message = %q\nwant      %q", res.Result.Message, c.Want.Message)
		}
	}
	if len(c.Want.Warnings) != len(res.Warnings) {
		t.Fatalf("warnings = %q, want %d containing %q", res.Warnings, len(c.Want.Warnings), c.Want.Warnings)
	}
	for i, w := range c.Want.Warnings {
		if !strings.Contains(res.Warnings[i], w) {
			t.Fatalf("warning %d = %q, want it to contain %q", i, res.Warnings[i], w)
		}
	}
	if c.Want.Config != nil {
		want := map[string]any{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig"}
		for k, v := range c.Want.Config {
			want[k] = v
		}
		got := ProviderConfig(t, patched)
		if g, w := string(mustJSON(t, got)), string(mustJSON(t, want)); g != w {
			t.Fatalf("providerConfig after mutation:\n got %s\nwant %s", g, w)
		}
	}
}

// ProviderConfig is the Falco providerConfig of a Shoot or Seed as JSON.
func ProviderConfig(t testing.TB, obj []byte) map[string]any {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(obj); err != nil {
		t.Fatal(err)
	}
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	i := slices.IndexFunc(exts, func(e any) bool { m, _ := e.(map[string]any); return m["type"] == "shoot-falco-service" })
	if i < 0 {
		return nil
	}
	pc, _ := exts[i].(map[string]any)["providerConfig"].(map[string]any)
	return pc
}

// BasePaths are the absolute paths of Base.
func (c Case) BasePaths() []string {
	out := make([]string, len(c.Base))
	for i, b := range c.Base {
		out[i] = filepath.Join(root(), b)
	}
	return out
}
