package shoot

import (
	"encoding/json"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// FalcoConfig is the Falco extension's config (its providerConfig) as
// falcops reads it, with Gardener's defaults applied.
type FalcoConfig struct {
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
	// Heartbeat is heartbeatEvent.
	Heartbeat bool
}

// Pin returns the pin of ruleset name.
func (f *FalcoConfig) Pin(name string) (servicev1alpha1.PinnedRuleset, bool) {
	for _, p := range f.Pins {
		if p.Name == name {
			return p, true
		}
	}
	return servicev1alpha1.PinnedRuleset{}, false
}

// FalcoOf reads the Falco extension's config. ok is false when the shoot
// does not enable the extension. The providerConfig is decoded strictly, as
// Gardener's webhooks do; an invalid one is an error naming the field.
func FalcoOf(u *unstructured.Unstructured) (f *FalcoConfig, ok bool, err error) {
	i, ext, ok := extension(u)
	if !ok {
		return nil, false, nil
	}
	f = &FalcoConfig{Index: i, AutoUpdate: true, Standard: DefaultStandardRules}
	cfg, err := decodeProviderConfig(i, ext)
	if err != nil {
		return nil, true, err
	}
	if cfg == nil {
		return f, true, nil
	}
	if cfg.FalcoVersion != nil {
		f.Version = *cfg.FalcoVersion
	}
	if cfg.AutoUpdate != nil {
		f.AutoUpdate = *cfg.AutoUpdate
	}
	if cfg.HeartbeatEvent != nil {
		f.Heartbeat = *cfg.HeartbeatEvent
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

// ProviderConfig returns the Falco extension's providerConfig, decoded
// strictly and not defaulted; an empty config when the extension has
// none. ok is false when the shoot does not enable the extension.
func ProviderConfig(u *unstructured.Unstructured) (cfg *servicev1alpha1.FalcoServiceConfig, ok bool, err error) {
	i, ext, ok := extension(u)
	if !ok {
		return nil, false, nil
	}
	cfg, err = decodeProviderConfig(i, ext)
	if err != nil {
		return nil, true, err
	}
	if cfg == nil {
		cfg = &servicev1alpha1.FalcoServiceConfig{}
	}
	return cfg, true, nil
}

// decodeProviderConfig decodes spec.extensions[i].providerConfig; nil when
// there is none.
func decodeProviderConfig(i int, ext map[string]any) (*servicev1alpha1.FalcoServiceConfig, error) {
	pc, has := ext["providerConfig"]
	if !has || pc == nil {
		return nil, nil
	}
	data, err := json.Marshal(pc)
	if err != nil {
		return nil, fmt.Errorf("spec.extensions[%d].providerConfig: %w", i, err)
	}
	cfg, err := servicev1alpha1.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("spec.extensions[%d].providerConfig: %w", i, err)
	}
	return cfg, nil
}

// IPv6First reports whether the shoot's first IP family is IPv6.
func IPv6First(u *unstructured.Unstructured) bool {
	families, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "networking", "ipFamilies")
	return len(families) > 0 && families[0] == "IPv6"
}

// Resource returns the kind and name spec.resources[] entry name refers
// to (resourceRef.kind and .name); ok is false when there is none.
func Resource(u *unstructured.Unstructured, name string) (kind, refName string, ok bool) {
	res, _, _ := unstructured.NestedSlice(u.Object, "spec", "resources")
	for _, r := range res {
		m, _ := r.(map[string]any)
		if m["name"] != name {
			continue
		}
		ref, _ := m["resourceRef"].(map[string]any)
		kind, _ = ref["kind"].(string)
		refName, _ = ref["name"].(string)
		return kind, refName, true
	}
	return "", "", false
}

// SetFalco writes falcoVersion and rules.pinned into the Falco extension's
// providerConfig and changes nothing else: other keys, other extensions and
// their order stay as they were. Empty pins remove rules.pinned.
//
// The owned fields are encoded with servicev1alpha1.Encode and merged key
// by key, rather than re-encoding the whole config, so that what the user
// wrote (explicit nulls, empty values) stays byte for byte.
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
	rules, _ := pc["rules"].(map[string]any)
	owned, err := encodeOwned(version, pins, rules == nil)
	if err != nil {
		return err
	}
	if pc == nil {
		pc = map[string]any{"apiVersion": owned["apiVersion"], "kind": owned["kind"]}
	}
	pc["falcoVersion"] = owned["falcoVersion"]
	if len(pins) > 0 {
		ownedRules, _ := owned["rules"].(map[string]any)
		if rules == nil {
			rules = ownedRules
		} else {
			rules["pinned"] = ownedRules["pinned"]
		}
		pc["rules"] = rules
	} else if rules != nil {
		delete(rules, "pinned")
	}
	ext["providerConfig"] = pc
	exts[i] = ext
	return unstructured.SetNestedSlice(u.Object, exts, "spec", "extensions")
}

// encodeOwned encodes the fields falcops owns as the JSON object Encode
// writes. Without rules, rules.standard gets Gardener's default: Gardener
// defaults it only when rules is absent, and rules is about to exist.
func encodeOwned(version string, pins []servicev1alpha1.PinnedRuleset, noRules bool) (map[string]any, error) {
	cfg := &servicev1alpha1.FalcoServiceConfig{FalcoVersion: &version}
	if len(pins) > 0 {
		cfg.Rules = &servicev1alpha1.Rules{Pinned: pins}
		if noRules {
			std := slices.Clone(DefaultStandardRules)
			cfg.Rules.StandardRules = &std
		}
	}
	data, err := servicev1alpha1.Encode(cfg)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return m, nil
}
