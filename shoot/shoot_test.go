package shoot

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, json.Unmarshal([]byte(doc), &u.Object))
	return u
}

// providerConfig returns the Falco extension's providerConfig of u.
func providerConfig(t *testing.T, u *unstructured.Unstructured) map[string]any {
	t.Helper()
	exts, _, err := unstructured.NestedSlice(u.Object, "spec", "extensions")
	require.NoError(t, err)
	pc, _ := exts[1].(map[string]any)["providerConfig"].(map[string]any)
	return pc
}

func setProviderConfig(t *testing.T, u *unstructured.Unstructured, pc map[string]any) {
	t.Helper()
	exts, _, err := unstructured.NestedSlice(u.Object, "spec", "extensions")
	require.NoError(t, err)
	if pc == nil {
		delete(exts[1].(map[string]any), "providerConfig")
	} else {
		exts[1].(map[string]any)["providerConfig"] = pc
	}
	require.NoError(t, unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions"))
}

func TestObserve(t *testing.T) {
	v := Observe(load(t))
	require.NoError(t, v.Err)
	assert.True(t, v.Enabled)
	assert.Equal(t, "garden-a", v.Namespace)
	assert.Equal(t, "prod", v.Name)
	assert.Equal(t, map[string]string{"wave": "one"}, v.Labels)
	assert.Equal(t, &FalcoConfig{Index: 1, Version: "0.42.1", AutoUpdate: true, Standard: []string{"falco-rules"}, Heartbeat: true}, v.Falco)
	assert.Equal(t, TimeWindow{Begin: "220000+0100", End: "230000+0100"}, v.Window)
	assert.True(t, v.Maintain, "maintain annotation")
	assert.True(t, v.LastOperationFailed, "failed last operation")
}

func TestSetFalco(t *testing.T) {
	u := load(t)
	before := u.DeepCopy()
	pins := []servicev1alpha1.PinnedRuleset{{Name: "falco-rules", Version: "1.0.0", Ref: "r/falco-rules@sha256:1"}}
	require.NoError(t, SetFalco(u, "0.43.0", pins))
	f, ok, err := FalcoOf(u)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "0.43.0", f.Version)
	assert.Equal(t, pins, f.Pins)
	assert.Equal(t, []string{"falco-rules"}, f.Standard)
	assert.Equal(t, map[string]any{"standard": []any{"falco-rules"}, "pinned": []any{
		map[string]any{"name": "falco-rules", "version": "1.0.0", "ref": "r/falco-rules@sha256:1"}}}, providerConfig(t, u)["rules"])

	// Nothing else changed: the other extension, other providerConfig keys.
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	oldExts, _, _ := unstructured.NestedSlice(before.Object, "spec", "extensions")
	assert.Equal(t, oldExts[0], exts[0], "the other extension changed")
	pc := providerConfig(t, u)
	assert.Equal(t, true, pc["heartbeatEvent"])
	assert.NotNil(t, pc["destinations"])
	u.Object["spec"].(map[string]any)["extensions"] = oldExts
	assert.Equal(t, before.Object, u.Object, "SetFalco changed something outside spec.extensions")

	// Removing the pins keeps rules.standard.
	require.NoError(t, SetFalco(u, "0.43.0", pins))
	require.NoError(t, SetFalco(u, "0.43.0", nil))
	f, _, _ = FalcoOf(u)
	assert.Empty(t, f.Pins)
	assert.Equal(t, map[string]any{"standard": []any{"falco-rules"}}, providerConfig(t, u)["rules"])
}

func TestSetFalcoKeepsWhatTheUserWrote(t *testing.T) {
	pins := []servicev1alpha1.PinnedRuleset{{Name: "falco-rules", Version: "1.0.0", Ref: "r/falco-rules@sha256:1"}}
	t.Run("no providerConfig", func(t *testing.T) {
		u := load(t)
		setProviderConfig(t, u, nil)
		require.NoError(t, SetFalco(u, "0.43.0", nil))
		assert.Equal(t, map[string]any{
			"apiVersion": servicev1alpha1.SchemeGroupVersion.String(), "kind": servicev1alpha1.Kind, "falcoVersion": "0.43.0",
		}, providerConfig(t, u))
	})
	t.Run("rules without standard stays without", func(t *testing.T) {
		u := load(t)
		pc := providerConfig(t, u)
		pc["rules"] = map[string]any{"custom": []any{map[string]any{"resourceName": "mine"}}}
		setProviderConfig(t, u, pc)
		require.NoError(t, SetFalco(u, "0.42.1", pins))
		rules := providerConfig(t, u)["rules"].(map[string]any)
		assert.NotContains(t, rules, "standard", "an explicit rules without standard means no standard rules")
		assert.Equal(t, []any{map[string]any{"resourceName": "mine"}}, rules["custom"])
		f, _, err := FalcoOf(u)
		require.NoError(t, err)
		assert.Empty(t, f.Standard)
	})
	t.Run("explicit null and empty values stay", func(t *testing.T) {
		u := load(t)
		pc := providerConfig(t, u)
		pc["autoUpdate"] = nil
		pc["nodeSelector"] = map[string]any{}
		setProviderConfig(t, u, pc)
		require.NoError(t, SetFalco(u, "0.43.0", pins))
		pc = providerConfig(t, u)
		assert.Contains(t, pc, "autoUpdate")
		assert.Nil(t, pc["autoUpdate"])
		assert.Equal(t, map[string]any{}, pc["nodeSelector"])
	})
	t.Run("no enabled extension", func(t *testing.T) {
		u := load(t)
		exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
		exts[1].(map[string]any)["disabled"] = true
		require.NoError(t, unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions"))
		assert.ErrorContains(t, SetFalco(u, "0.43.0", nil), "no enabled shoot-falco-service extension")
	})
}

func TestDisabledAndInvalid(t *testing.T) {
	u := load(t)
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	exts[1].(map[string]any)["disabled"] = true
	require.NoError(t, unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions"))
	_, ok, _ := FalcoOf(u)
	assert.False(t, ok, "a disabled extension counts as enabled")
	assert.False(t, HasFalco(u))
	v := Observe(u)
	assert.False(t, v.Enabled)
	assert.Nil(t, v.Falco)

	u = load(t)
	pc := providerConfig(t, u)
	pc["falcoCtl"] = map[string]any{}
	setProviderConfig(t, u, pc)
	_, ok, err := FalcoOf(u)
	assert.True(t, ok)
	assert.Error(t, err, "a removed field must be an error")
	v = Observe(u)
	assert.True(t, v.Enabled)
	assert.Nil(t, v.Falco)
	assert.ErrorContains(t, v.Err, "spec.extensions[1].providerConfig")
}

func TestSlim(t *testing.T) {
	u := load(t)
	full := u.DeepCopy()
	out, err := Slim(u)
	require.NoError(t, err)
	s := out.(*unstructured.Unstructured)
	for _, path := range [][]string{{"spec", "kubernetes"}, {"status", "conditions"}, {"metadata", "managedFields"}, {"status", "lastOperation", "description"}} {
		_, ok, _ := unstructured.NestedFieldNoCopy(s.Object, path...)
		assert.False(t, ok, "%v kept", path)
	}
	assert.Empty(t, s.GetAnnotations()["other"])
	assert.Equal(t, "7", s.GetResourceVersion())
	assert.Equal(t, Observe(full), Observe(s), "slim lost or changed what falcops reads")
	assert.NotEmpty(t, Observe(s).Window.Begin, "slim dropped the maintenance window")
}
