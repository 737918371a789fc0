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
