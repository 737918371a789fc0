package extension

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/falcops/falcops/internal/scheme"
)

// Scheme knows the built-in kinds and the Gardener kinds the extension
// reads and writes (Extension, Cluster, ManagedResource).
func Scheme() *runtime.Scheme { return scheme.Seed() }
