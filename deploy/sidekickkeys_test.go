package deploy_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/falcops/falcops/deploy"
)

// sidekickKeys reads testdata/falcosidekick-keys.txt, falcosidekick's own
// configuration keys and Go types (hack/sidekick-keys extracted them from
// its source; the header names the commit).
func sidekickKeys(t *testing.T) map[string]string {
	f, err := os.Open("testdata/falcosidekick-keys.txt")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	keys := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := s.Text(); line != "" && !strings.HasPrefix(line, "#") {
			k, typ, ok := strings.Cut(line, " ")
			require.True(t, ok, line)
			keys[k] = typ
		}
	}
	require.NoError(t, s.Err())
	require.Greater(t, len(keys), 500, "the whole configuration, not a table of ours")
	return keys
}

// checkKeys reports every key of cfg falcosidekick does not read, and
// every value its field's type cannot hold. viper reads keys case-
// insensitively; mapstructure decodes YAML numbers into integer fields.
func checkKeys(keys map[string]string, prefix string, cfg map[string]any) []string {
	var bad []string
	names := make([]string, 0, len(cfg))
	for k := range cfg {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		path := strings.ToLower(k)
		if prefix != "" {
			path = prefix + "." + path
		}
		typ, ok := keys[path]
		if !ok {
			bad = append(bad, path+": falcosidekick has no such key")
			continue
		}
		if msg := fits(typ, cfg[k]); msg != "" {
			bad = append(bad, fmt.Sprintf("%s: %v is not a %s: %s", path, cfg[k], typ, msg))
			continue
		}
		if m, ok := cfg[k].(map[string]any); ok && typ == "struct" {
			bad = append(bad, checkKeys(keys, path, m)...)
		}
	}
	return bad
}

func fits(typ string, v any) string {
	switch typ {
	case "struct":
		if _, ok := v.(map[string]any); !ok {
			return "want a map of keys"
		}
	case "string":
		if _, ok := v.(string); !ok {
			return "want a string"
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			return "want true or false"
		}
	case "int", "int64", "uint16", "time.Duration":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return "want an integer"
		}
	case "float64":
		if _, ok := v.(float64); !ok {
			return "want a number"
		}
	case "map[string]string":
		m, ok := v.(map[string]any)
		if !ok {
			return "want a map of strings"
		}
		for _, e := range m {
			if _, ok := e.(string); !ok {
				return "want a map of strings"
			}
		}
	case "[]string":
		l, ok := v.([]any)
		if !ok {
			return "want a list of strings"
		}
		for _, e := range l {
			if _, ok := e.(string); !ok {
				return "want a list of strings"
			}
		}
	default:
		return "a type the renderer should not write"
	}
	return ""
}

// TestSidekickConfigKeys: every rendered falcosidekick configuration uses
// only keys falcosidekick reads, each with a value of its field's type.
func TestSidekickConfigKeys(t *testing.T) {
	keys := sidekickKeys(t)
	scenarios := destinationCases(t)
	scenarios["sidekick"] = cases(t)["sidekick"]
	checked := 0
	for name, in := range scenarios {
		objs, err := deploy.Render(in)
		require.NoError(t, err, name)
		for _, o := range objs {
			s, ok := o.(*corev1.Secret)
			if !ok || s.Name != "falcosidekick" {
				continue
			}
			var cfg map[string]any
			require.NoError(t, yaml.Unmarshal(s.Data["config.yaml"], &cfg), name)
			assert.Empty(t, checkKeys(keys, "", cfg), name)
			checked++
		}
	}
	assert.GreaterOrEqual(t, checked, 10)

	// The check itself: an unknown output, an unknown field, a wrong type.
	assert.Equal(t, []string{"pigeon: falcosidekick has no such key", "webhook.checkcert: yes is not a bool: want true or false",
		"webhook.hostprot: falcosidekick has no such key"},
		checkKeys(keys, "", map[string]any{"pigeon": map[string]any{}, "webhook": map[string]any{"hostprot": "x", "checkcert": "yes"}}))
}
