package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// Gardener's annotations and names the webhooks read.
const (
	// AnnotationEnabled on a project namespace admits Falco under
	// restrictedUsage.
	AnnotationEnabled = "falco.gardener.cloud/enabled"
	// AnnotationCentralLogging on a project namespace admits the central
	// destination under restrictedCentralizedLogging; Gardener's code
	// reads this name.
	AnnotationCentralLogging = "falco.gardener.cloud/central-logging"
	// AnnotationCentralizedLogging is the name Gardener's docs and flag
	// help give; falcops accepts both.
	AnnotationCentralizedLogging = "falco.gardener.cloud/centralized-logging"
	// AnnotationSkipDefaultDestinations on a Project opts it out of the
	// operator's global default destinations.
	AnnotationSkipDefaultDestinations = "falco.gardener.cloud/skip-default-destinations"
	// gardenNamespace is always eligible, as in Gardener.
	gardenNamespace = "garden"
)

// object is an admitted Shoot or Seed, kept as JSON so that fields falcops
// does not know survive a mutation unchanged.
type object struct {
	u *unstructured.Unstructured
}

func parseObject(raw []byte) (*object, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("the object is not JSON: %w", err)
	}
	return &object{u: &unstructured.Unstructured{Object: m}}, nil
}

// parseRequest reads a request's object and old object; done with the
// response when there is nothing to admit or the request is malformed.
func parseRequest(req admission.Request) (obj, old *object, res admission.Response, done bool) {
	obj, err := parseObject(req.Object.Raw)
	if err == nil {
		old, err = parseObject(req.OldObject.Raw)
	}
	switch {
	case err != nil:
		return nil, nil, admission.Errored(http.StatusBadRequest, err), true
	case obj == nil:
		return nil, nil, admission.Allowed(""), true
	}
	return obj, old, admission.Response{}, false
}

// extension returns the index and the entry of shoot-falco-service in
// spec.extensions.
func (o *object) extension() (int, map[string]any, bool) {
	if o == nil {
		return -1, nil, false
	}
	exts, _, _ := unstructured.NestedSlice(o.u.Object, "spec", "extensions")
	for i, e := range exts {
		if m, ok := e.(map[string]any); ok && m["type"] == servicev1alpha1.Type {
			return i, m, true
		}
	}
	return -1, nil, false
}

// disabled is true when the object does not enable the extension: no
// entry, or disabled: true.
func (o *object) disabled() bool {
	_, ext, ok := o.extension()
	if !ok {
		return true
	}
	d, _ := ext["disabled"].(bool)
	return d
}

func (o *object) deleting() bool {
	_, ok, _ := unstructured.NestedFieldNoCopy(o.u.Object, "metadata", "deletionTimestamp")
	return ok
}

// errNoConfig is Gardener's text for a Falco extension without a
// providerConfig.
var errNoConfig = errors.New("no FalcoConfig found in extensions")

// config decodes the providerConfig strictly; nil, errNoConfig when there
// is none.
func (o *object) config() (*servicev1alpha1.FalcoServiceConfig, error) {
	_, ext, ok := o.extension()
	if !ok {
		return nil, errNoConfig
	}
	pc, ok := ext["providerConfig"]
	if !ok || pc == nil {
		return nil, errNoConfig
	}
	raw, err := json.Marshal(pc)
	if err != nil {
		return nil, err
	}
	cfg, err := servicev1alpha1.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("failed to decode %s provider config: %w", servicev1alpha1.Type, err)
	}
	return cfg, nil
}

// setConfig writes cfg as the extension's providerConfig, adding the
// extension entry when there is none (as Gardener's mutator does).
func (o *object) setConfig(cfg *servicev1alpha1.FalcoServiceConfig) error {
	raw, err := servicev1alpha1.Encode(cfg)
	if err != nil {
		return err
	}
	var pc map[string]any
	if err := json.Unmarshal(raw, &pc); err != nil {
		return err
	}
	exts, _, _ := unstructured.NestedSlice(o.u.Object, "spec", "extensions")
	i, ext, ok := o.extension()
	if !ok {
		ext = map[string]any{"type": servicev1alpha1.Type}
		exts = append(exts, ext)
		i = len(exts) - 1
	}
	ext["providerConfig"] = pc
	exts[i] = ext
	return unstructured.SetNestedSlice(o.u.Object, exts, "spec", "extensions")
}

// resource is one spec.resources entry.
type resourceRef struct{ name, kind, refName string }

func (o *object) resources() []resourceRef {
	items, _, _ := unstructured.NestedSlice(o.u.Object, "spec", "resources")
	out := make([]resourceRef, 0, len(items))
	for _, it := range items {
		m, _ := it.(map[string]any)
		ref, _ := m["resourceRef"].(map[string]any)
		name, _ := m["name"].(string)
		kind, _ := ref["kind"].(string)
		refName, _ := ref["name"].(string)
		out = append(out, resourceRef{name: name, kind: kind, refName: refName})
	}
	return out
}

// resource returns the spec.resources entry name of kind.
func findResource(rs []resourceRef, name, kind string) (resourceRef, bool) {
	for _, r := range rs {
		if r.kind == kind && r.name == name {
			return r, true
		}
	}
	return resourceRef{}, false
}

func enabled(d servicev1alpha1.Destination) bool { return d.Enabled == nil || *d.Enabled }

func destinations(cfg *servicev1alpha1.FalcoServiceConfig) []servicev1alpha1.Destination {
	if cfg == nil || cfg.Destinations == nil {
		return nil
	}
	return *cfg.Destinations
}
