package consistency_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/consistency"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/lifecycle"
)

func profileWith(t *testing.T, entries string) (string, *lifecycle.Profile) {
	t.Helper()
	root := t.TempDir()
	sharedtest.WriteFiles(t, root, map[string]string{
		"rulesets/.keep": "",
		"profiles/falco.yaml": `apiVersion: falco.gardener.cloud/v1alpha1
kind: FalcoProfile
metadata: {name: falco}
spec:
  images:
    falco:
    - {version: 0.41.3, repository: falcosecurity/falco, tag: 0.41.3}
    - {version: 0.42.1, repository: falcosecurity/falco, tag: 0.42.1}
  versions:
    falco:
` + entries,
	})
	prof, err := lifecycle.Load(filepath.Join(root, "profiles"))
	require.NoError(t, err)
	return root, prof
}

// TestEveryFalcoLoadsEveryStandardRuleset: the repository's profile and
// tuning rulesets are consistent with upstream's releases; a Falco whose
// bundled container plugin is too old for every falco-rules 5, and whose
// engine is too old for falco-rules 4's successor, is reported at its
// profile entry (Gardener defect D7).
func TestEveryFalcoLoadsEveryStandardRuleset(t *testing.T) {
	upstream := sharedtest.UpstreamRulesets(t)
	repo := sharedtest.RepoRoot(t)
	prof, err := lifecycle.Load(filepath.Join(repo, "profiles"))
	require.NoError(t, err)
	assert.Empty(t, consistency.Check(repo, prof), "the repository's profile and rulesets")

	// Only falco-rules 5 is available: it needs engine 0.57.0 and the
	// container plugin 0.4.0.
	only := t.TempDir()
	sharedtest.CopyDir(t, filepath.Join(upstream, "falco-rules-5"), filepath.Join(only, "falco-rules-5"))
	t.Setenv("FALCOPS_RULESETS_PATH", only)
	root, bad := profileWith(t, `    - {version: 0.41.3, classification: supported, rulesVersion: 4.0.0, engineVersion: 0.50.0, plugins: [{name: container, version: 0.3.1}]}
    - {version: 0.42.1, classification: supported, rulesVersion: 5.0.0, engineVersion: 0.57.0, plugins: [{name: container, version: 0.4.0}]}
`)
	fs := consistency.Check(root, bad)
	require.NotEmpty(t, fs)
	var msgs []string
	for _, f := range fs {
		msgs = append(msgs, f.String())
	}
	all := strings.Join(msgs, "\n")
	assert.Contains(t, all, "Falco 0.41.3 (engine 0.50.0, plugins container 0.3.1) can load no version of falco-rules here (5.1.0 needs engine 0.57.0)")
	assert.Contains(t, all, "falco.yaml:11:7")
	assert.Contains(t, all, "[FALCOPS_CONSISTENCY]")
	assert.NotContains(t, all, "Falco 0.42.1", "0.42.1 loads falco-rules 5")
}
