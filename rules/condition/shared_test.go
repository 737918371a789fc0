package condition

import (
	"testing"

	"github.com/falcops/falcops/internal/sharedtest"
)

// sharedDir is the shared upstream rules folder; see package sharedtest.
func sharedDir(t testing.TB) string { return sharedtest.UpstreamRules(t) }

// sharedDirIfPresent is sharedDir for fuzz seeding; see package sharedtest.
func sharedDirIfPresent(t testing.TB) (string, bool) { return sharedtest.UpstreamRulesIfPresent(t) }
