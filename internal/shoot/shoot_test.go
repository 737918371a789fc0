package shoot

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

const doc = `{
  "apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot",
  "metadata": {"name": "prod", "namespace": "garden-a", "uid": "u1", "resourceVersion": "7", "generation": 3,
    "labels": {"wave": "one"}, "annotations": {"gardener.cloud/operation": "maintain", "other": "x"},
    "managedFields": [{"manager": "kubectl"}]},
  "spec": {
    "kubernetes": {"version": "1.33.0"},
    "maintenance": {"timeWindow": {"begin": "220000+0100", "end": "230000+0100"}},
    "extensions": [
      {"type": "shoot-dns-service", "providerConfig": {"x": 1}},
      {"type": "shoot-falco-service", "providerConfig": {
        "apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig",
        "falcoVersion": "0.42.1", "heartbeatEvent": true, "destinations": [{"name": "logging"}]}}
    ]
  },
  "status": {"lastOperation": {"state": "Failed", "description": "boom"}, "conditions": [{"type": "APIServerAvailable"}]}
}`

func load(t *testing.T) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestReadAndSetFalco(t *testing.T) {
	u := load(t)
	f, ok, err := FalcoOf(u)
	if err != nil || !ok {
		t.Fatalf("FalcoOf = %v, %v", ok, err)
	}
	if f.Version != "0.42.1" || !f.AutoUpdate || !reflect.DeepEqual(f.Standard, []string{"falco-rules"}) || f.Index != 1 {
		t.Fatalf("falco = %+v", f)
	}
	if !MaintainRequested(u) || !LastOperationFailed(u) {
		t.Fatal("maintain annotation or failed last operation not seen")
	}
	if b, e := TimeWindow(u); b != "220000+0100" || e != "230000+0100" {
		t.Fatalf("window = %s %s", b, e)
	}
	before := u.DeepCopy()
	pins := []servicev1alpha1.PinnedRuleset{{Name: "falco-rules", Version: "1.0.0", Ref: "r/falco-rules@sha256:1"}}
	if err := SetFalco(u, "0.43.0", pins); err != nil {
		t.Fatal(err)
	}
	f, _, err = FalcoOf(u)
	if err != nil || f.Version != "0.43.0" || !reflect.DeepEqual(f.Pins, pins) || !reflect.DeepEqual(f.Standard, []string{"falco-rules"}) {
		t.Fatalf("after SetFalco: %+v, %v", f, err)
	}
	// Nothing else changed: the other extension, other providerConfig keys.
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	oldExts, _, _ := unstructured.NestedSlice(before.Object, "spec", "extensions")
	if !reflect.DeepEqual(exts[0], oldExts[0]) {
		t.Fatal("the other extension changed")
	}
	pc := exts[1].(map[string]any)["providerConfig"].(map[string]any)
	if pc["heartbeatEvent"] != true || pc["destinations"] == nil {
		t.Fatalf("providerConfig lost keys: %v", pc)
	}
	u.Object["spec"].(map[string]any)["extensions"] = oldExts
	if !reflect.DeepEqual(u.Object, before.Object) {
		t.Fatal("SetFalco changed something outside spec.extensions")
	}
	// Removing the pins keeps rules.standard.
	if err := SetFalco(u, "0.43.0", nil); err != nil {
		t.Fatal(err)
	}
	if f, _, _ = FalcoOf(u); len(f.Pins) != 0 {
		t.Fatalf("pins = %v", f.Pins)
	}
}

func TestFalcoOfDisabledAndInvalid(t *testing.T) {
	u := load(t)
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	exts[1].(map[string]any)["disabled"] = true
	_ = unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions")
	if _, ok, _ := FalcoOf(u); ok || HasFalco(u) {
		t.Fatal("a disabled extension counts as enabled")
	}
	u = load(t)
	exts, _, _ = unstructured.NestedSlice(u.Object, "spec", "extensions")
	exts[1].(map[string]any)["providerConfig"].(map[string]any)["falcoCtl"] = map[string]any{}
	_ = unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions")
	if _, ok, err := FalcoOf(u); !ok || err == nil {
		t.Fatalf("a removed field must be an error, got ok=%v err=%v", ok, err)
	}
}

func TestSlim(t *testing.T) {
	u := load(t)
	full := u.DeepCopy()
	out, err := Slim(u)
	if err != nil {
		t.Fatal(err)
	}
	s := out.(*unstructured.Unstructured)
	for _, path := range [][]string{{"spec", "kubernetes"}, {"status", "conditions"}, {"metadata", "managedFields"}, {"status", "lastOperation", "description"}} {
		if _, ok, _ := unstructured.NestedFieldNoCopy(s.Object, path...); ok {
			t.Errorf("%v kept", path)
		}
	}
	if s.GetAnnotations()["other"] != "" || !MaintainRequested(s) || !LastOperationFailed(s) || s.GetResourceVersion() != "7" || s.GetLabels()["wave"] != "one" {
		t.Fatalf("slim lost what falcops reads: %v", s.Object)
	}
	f1, _, _ := FalcoOf(full)
	f2, _, _ := FalcoOf(s)
	if !reflect.DeepEqual(f1, f2) {
		t.Fatal("slim changed the Falco config")
	}
	if b, _ := TimeWindow(s); b == "" {
		t.Fatal("slim dropped the maintenance window")
	}
}
