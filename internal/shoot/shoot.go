package shoot

import (
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// GVK is the Gardener Shoot kind.
var GVK = schema.GroupVersionKind{Group: "core.gardener.cloud", Version: "v1beta1", Kind: "Shoot"}

// Annotations Gardener users set.
const (
	// OperationAnnotation with value OperationMaintain asks for maintenance
	// now, outside the window. Gardener's own maintenance controller
	// removes it; falcops leaves it alone.
	OperationAnnotation = "gardener.cloud/operation"
	OperationMaintain   = "maintain"
)

// DefaultStandardRules is what Gardener's mutator sets when rules is absent.
var DefaultStandardRules = []string{"falco-rules"}

// New returns an empty Shoot.
func New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK)
	return u
}

// NewList returns an empty ShootList.
func NewList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(GVK.GroupVersion().WithKind("ShootList"))
	return l
}

// Falco is the shoot's Falco extension as falcops reads it.
type Falco struct {
	// Index of the extension in spec.extensions.
	Index int
	// Version is falcoVersion ("" when unset).
	Version string
	// AutoUpdate is autoUpdate (default true, as Gardener's mutator sets).
	AutoUpdate bool
	// Standard are the standard rulesets (default [falco-rules] only when
	// rules is absent).
	Standard []string
	// Pins are the rulesets falcops pinned (rules.pinned).
	Pins []servicev1alpha1.PinnedRuleset
}

// Pin returns the pin of ruleset name.
func (f *Falco) Pin(name string) (servicev1alpha1.PinnedRuleset, bool) {
	for _, p := range f.Pins {
		if p.Name == name {
			return p, true
		}
	}
	return servicev1alpha1.PinnedRuleset{}, false
}

// extension returns the index and map of the enabled Falco extension.
func extension(u *unstructured.Unstructured) (int, map[string]any, bool) {
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	for i, e := range exts {
		m, ok := e.(map[string]any)
		if !ok || m["type"] != servicev1alpha1.Type {
			continue
		}
		if disabled, _ := m["disabled"].(bool); disabled {
			return 0, nil, false
		}
		return i, m, true
	}
	return 0, nil, false
}

// HasFalco reports whether the shoot enables the Falco extension.
func HasFalco(u *unstructured.Unstructured) bool {
	_, _, ok := extension(u)
	return ok
}

// FalcoOf reads the Falco extension. ok is false when the shoot does not
// enable it. The providerConfig is decoded strictly, as Gardener's webhooks
// do; an invalid one is an error naming the field.
func FalcoOf(u *unstructured.Unstructured) (f *Falco, ok bool, err error) {
	i, ext, ok := extension(u)
	if !ok {
		return nil, false, nil
	}
	f = &Falco{Index: i, AutoUpdate: true, Standard: DefaultStandardRules}
	pc, has := ext["providerConfig"]
	if !has || pc == nil {
		return f, true, nil
	}
	data, err := json.Marshal(pc)
	if err != nil {
		return nil, true, fmt.Errorf("spec.extensions[%d].providerConfig: %w", i, err)
	}
	cfg, err := servicev1alpha1.Decode(data)
	if err != nil {
		return nil, true, fmt.Errorf("spec.extensions[%d].providerConfig: %w", i, err)
	}
	if cfg.FalcoVersion != nil {
		f.Version = *cfg.FalcoVersion
	}
	if cfg.AutoUpdate != nil {
		f.AutoUpdate = *cfg.AutoUpdate
	}
	if cfg.Rules != nil {
		f.Standard = nil
		if cfg.Rules.StandardRules != nil {
			f.Standard = slices.Clone(*cfg.Rules.StandardRules)
		}
		f.Pins = slices.Clone(cfg.Rules.Pinned)
	}
	return f, true, nil
}

// SetFalco writes falcoVersion and rules.pinned into the Falco extension's
// providerConfig and changes nothing else: other keys, other extensions and
// their order stay as they were. Empty pins remove rules.pinned.
func SetFalco(u *unstructured.Unstructured, version string, pins []servicev1alpha1.PinnedRuleset) error {
	exts, _, err := unstructured.NestedSlice(u.Object, "spec", "extensions")
	if err != nil {
		return err
	}
	i, ext, ok := extension(u)
	if !ok {
		return fmt.Errorf("shoot %s/%s has no enabled %s extension", u.GetNamespace(), u.GetName(), servicev1alpha1.Type)
	}
	pc, _ := ext["providerConfig"].(map[string]any)
	if pc == nil {
		pc = map[string]any{
			"apiVersion": servicev1alpha1.SchemeGroupVersion.String(),
			"kind":       servicev1alpha1.Kind,
		}
	}
	pc["falcoVersion"] = version
	rules, _ := pc["rules"].(map[string]any)
	if len(pins) > 0 {
		if rules == nil {
			// Gardener defaults standard only when rules is absent; keep
			// that meaning now that rules exists.
			rules = map[string]any{"standard": []any{"falco-rules"}}
		}
		list := make([]any, len(pins))
		for j, p := range pins {
			list[j] = map[string]any{"name": p.Name, "version": p.Version, "ref": p.Ref}
		}
		rules["pinned"] = list
		pc["rules"] = rules
	} else if rules != nil {
		delete(rules, "pinned")
	}
	ext["providerConfig"] = pc
	exts[i] = ext
	return unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions")
}

// TimeWindow returns spec.maintenance.timeWindow's begin and end ("" when
// absent).
func TimeWindow(u *unstructured.Unstructured) (begin, end string) {
	begin, _, _ = unstructured.NestedString(u.Object, "spec", "maintenance", "timeWindow", "begin")
	end, _, _ = unstructured.NestedString(u.Object, "spec", "maintenance", "timeWindow", "end")
	return begin, end
}

// MaintainRequested reports the gardener.cloud/operation=maintain annotation.
func MaintainRequested(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()[OperationAnnotation] == OperationMaintain
}

// LastOperationFailed reports status.lastOperation.state Failed or Error.
func LastOperationFailed(u *unstructured.Unstructured) bool {
	s, _, _ := unstructured.NestedString(u.Object, "status", "lastOperation", "state")
	return s == "Failed" || s == "Error"
}

// Slim is the cache transform for shoots: it keeps only what falcops reads
// (identity, labels, the maintain annotation, spec.extensions,
// spec.maintenance, status.lastOperation.state) and drops the rest, which
// in a real landscape is most of a Shoot (workers, provider config, status
// conditions, managed fields). A slimmed shoot must never be written with
// Update: falcops only sends merge patches computed between two slimmed
// copies, which touch nothing but the changed fields, guarded by the
// resourceVersion.
func Slim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	meta := map[string]any{}
	if m, ok := u.Object["metadata"].(map[string]any); ok {
		for _, k := range []string{"name", "namespace", "uid", "resourceVersion", "generation", "labels", "deletionTimestamp", "creationTimestamp"} {
			if v, ok := m[k]; ok {
				meta[k] = v
			}
		}
		if a, ok := m["annotations"].(map[string]any); ok {
			if v, ok := a[OperationAnnotation]; ok {
				meta["annotations"] = map[string]any{OperationAnnotation: v}
			}
		}
	}
	out := map[string]any{"apiVersion": u.Object["apiVersion"], "kind": u.Object["kind"], "metadata": meta}
	spec := map[string]any{}
	for _, k := range []string{"extensions", "maintenance"} {
		if v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", k); ok {
			spec[k] = v
		}
	}
	out["spec"] = spec
	if s, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "lastOperation", "state"); ok {
		out["status"] = map[string]any{"lastOperation": map[string]any{"state": s}}
	}
	u.Object = out
	return u, nil
}
