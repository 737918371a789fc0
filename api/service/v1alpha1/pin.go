package v1alpha1

import "strings"

// Digest returns the digest part of Ref (sha256:<hex>), or "" when Ref
// carries none.
func (p PinnedRuleset) Digest() string {
	if i := strings.LastIndexByte(p.Ref, '@'); i >= 0 {
		return p.Ref[i+1:]
	}
	return ""
}

// PinNames are the pins' ruleset names, in order (load order).
func PinNames(pins []PinnedRuleset) []string {
	out := make([]string, len(pins))
	for i, p := range pins {
		out[i] = p.Name
	}
	return out
}
