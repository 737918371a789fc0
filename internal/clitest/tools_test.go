package clitest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/internal/sharedtest"
)

var (
	toolCall     = regexp.MustCompile(`clitest\.Tool\([a-z]+, "([a-z-]+)"\)`)
	testToolsVar = regexp.MustCompile(`(?m)^TEST_TOOLS := (.*)$`)
	toolsShPkg   = regexp.MustCompile(`(?m)^  \[([a-z-]+)\]=`)
)

// lookedUp lists the tools the tests under root look up with clitest.Tool,
// plus controller-gen, which make test hands over as FALCOPS_CONTROLLER_GEN.
func lookedUp(t *testing.T, root string) []string {
	t.Helper()
	tools := []string{"controller-gen"}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range toolCall.FindAllStringSubmatch(string(data), -1) {
			tools = append(tools, m[1])
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(tools)
	return slices.Compact(tools)
}

// missingTools are the tools tests look up that make tools-test does not
// install, or that hack/tools.sh cannot build.
func missingTools(lookedUp []string, makefile, toolsSh string) []string {
	m := testToolsVar.FindStringSubmatch(makefile)
	installed := []string{}
	if m != nil {
		installed = strings.Fields(m[1])
	}
	buildable := map[string]bool{}
	for _, b := range toolsShPkg.FindAllStringSubmatch(toolsSh, -1) {
		buildable[b[1]] = true
	}
	var missing []string
	for _, tool := range lookedUp {
		if !slices.Contains(installed, tool) || !buildable[tool] {
			missing = append(missing, tool)
		}
	}
	return missing
}

// TestToolsTestInstallsEveryTool: `make test` (through tools-test) builds
// every tool any test looks up, so a fresh machine skips or fails nothing
// for want of one (as oras once did).
func TestToolsTestInstallsEveryTool(t *testing.T) {
	root := sharedtest.RepoRoot(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	toolsSh, err := os.ReadFile(filepath.Join(root, "hack", "tools.sh"))
	require.NoError(t, err)
	tools := lookedUp(t, root)
	require.Contains(t, tools, "falcoctl", "the scan finds the tools the tests use")
	assert.Empty(t, missingTools(tools, string(makefile), string(toolsSh)))

	// The check itself: a Makefile without oras is caught.
	without := strings.Replace(string(makefile), " oras", "", 1)
	assert.Equal(t, []string{"oras"}, missingTools([]string{"falcoctl", "oras"}, without, string(toolsSh)))
}
