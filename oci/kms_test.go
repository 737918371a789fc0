//go:build falcops_kms

package oci

import (
	"slices"
	"testing"
)

// TestKMSProvidersCompiledIn: the falcops_kms build registers all four.
func TestKMSProvidersCompiledIn(t *testing.T) {
	got := KMSProviders()
	for _, p := range []string{"awskms://", "azurekms://", "gcpkms://", "hashivault://"} {
		if !slices.Contains(got, p) {
			t.Errorf("%s missing from %v", p, got)
		}
	}
}
