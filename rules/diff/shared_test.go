package diff

import (
	"testing"

	"github.com/falcops/falcops/internal/sharedtest"
)

// sharedDir is the shared upstream rules folder; see package sharedtest.
func sharedDir(t testing.TB) string { return sharedtest.UpstreamRules(t) }
