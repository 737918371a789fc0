package testenv

import (
	"testing"

	"github.com/falcops/falcops/oci/ocitest"
)

// Registry is the test registry of oci/ocitest.
type Registry = ocitest.Registry

// StartRegistry starts the test registry (ocitest.New).
func StartRegistry(t testing.TB) *Registry { return ocitest.New(t) }
