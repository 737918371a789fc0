package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/agent"
)

func write(t *testing.T, dir string, files map[string]string) string {
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	return dir
}

// TestShootRulesLeaveOutBrokenFiles: the shoot's own rules ConfigMaps are
// loaded file by file on top of what Falco loads before them; the files
// that load are staged, in order, a broken one is left out with its
// position, so Falco keeps the rest. Fixing it stages it.
func TestShootRulesLeaveOutBrokenFiles(t *testing.T) {
	root := t.TempDir()
	before := write(t, filepath.Join(root, "rules.d"), map[string]string{"010-base.yaml": "- macro: spawned_process\n  condition: evt.type = execve\n"})
	local := write(t, filepath.Join(root, "mounts", "local"), map[string]string{
		"a_good.yaml":    "- rule: Local shell\n  desc: x\n  condition: spawned_process and proc.name = bash\n  output: shell\n  priority: WARNING\n",
		"b_broken.yaml":  "- rule: Broken\n  desc: x\n  condition: spawned_process and\n  output: x\n  priority: WARNING\n",
		"c_unknown.yaml": "- rule: Unknown macro\n  desc: x\n  condition: no_such_macro\n  output: x\n  priority: WARNING\n",
		"notes.txt":      "not rules",
	})
	other := write(t, filepath.Join(root, "mounts", "other"), map[string]string{"d.yaml": "- rule: Uses local\n  desc: x\n  condition: spawned_process\n  output: x\n  priority: INFO\n"})
	sr := agent.ShootRules{Dirs: []string{local, other, filepath.Join(root, "mounts", "missing")}, Before: []string{before}, Tree: agent.Tree{Root: filepath.Join(root, "shoot.d")}}
	refused, err := sr.Stage()
	require.NoError(t, err)
	files, err := sr.Tree.Files()
	require.NoError(t, err)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"010-local_a_good.yaml", "020-other_d.yaml"}, names)
	var texts []string
	for _, f := range refused {
		texts = append(texts, f.String())
	}
	require.Len(t, texts, 2, "%v", texts)
	assert.True(t, strings.HasPrefix(texts[0], "local/b_broken.yaml:3:"), texts[0])
	assert.True(t, strings.HasPrefix(texts[1], "local/c_unknown.yaml:3:"), texts[1])

	write(t, local, map[string]string{"b_broken.yaml": "- rule: Broken\n  desc: x\n  condition: spawned_process\n  output: x\n  priority: WARNING\n"})
	refused, err = sr.Stage()
	require.NoError(t, err)
	assert.Len(t, refused, 1)
	files, err = sr.Tree.Files()
	require.NoError(t, err)
	assert.Contains(t, files, "010-local_b_broken.yaml")
}
