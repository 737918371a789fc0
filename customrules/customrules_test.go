package customrules_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/customrules"
	"github.com/falcops/falcops/rules"
)

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// TestRead: Gardener's order (ConfigMaps as listed, files sorted, .gz
// stripped) and each of Gardener's refusals with its text.
func TestRead(t *testing.T) {
	files, err := customrules.Read([]customrules.ConfigMap{
		{Name: "b", Data: map[string]string{"z.yaml": "- list: z\n  items: []\n", "a.yaml": "[]"}},
		{Name: "a", BinaryData: map[string][]byte{"m.yaml.gz": gz(t, "- list: m\n  items: []\n")}},
	})
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Path())
	}
	assert.Equal(t, []string{"b/a.yaml", "b/z.yaml", "a/m.yaml"}, names)
	assert.Equal(t, "- list: m\n  items: []\n", string(files[2].Data))

	many := map[string]string{}
	for i := range 11 {
		many[string(rune('a'+i))+".yaml"] = "[]"
	}
	bomb := gz(t, strings.Repeat("a", customrules.MaxSize+1))
	lying := gz(t, "[]")
	binary.LittleEndian.PutUint32(lying[len(lying)-4:], 1)
	for name, c := range map[string]struct {
		cms  []customrules.ConfigMap
		want string
	}{
		"too many":  {[]customrules.ConfigMap{{Name: "cm", Data: many}}, `too many custom rule files in configmap "cm"`},
		"yml":       {[]customrules.ConfigMap{{Name: "cm", Data: map[string]string{"r.yml": "[]"}}}, "rule file r.yml is not a yaml file"},
		"not gz":    {[]customrules.ConfigMap{{Name: "cm", BinaryData: map[string][]byte{"r.yaml": {1}}}}, "rule file r.yaml of configmap cm is not a gzipped yaml file"},
		"bomb":      {[]customrules.ConfigMap{{Name: "cm", BinaryData: map[string][]byte{"r.yaml.gz": bomb}}}, "uncompressed size is larger than 1 MiB: 1048577 bytes"},
		"isize lie": {[]customrules.ConfigMap{{Name: "cm", BinaryData: map[string][]byte{"r.yaml.gz": lying}}}, "isize in gzip trailer did not match"},
		"duplicate": {[]customrules.ConfigMap{{Name: "a", Data: map[string]string{"r.yaml": "[]"}}, {Name: "b", BinaryData: map[string][]byte{"r.yaml.gz": gz(t, "[]")}}}, "duplicate rule file r.yaml"},
		"not yaml":  {[]customrules.ConfigMap{{Name: "cm", Data: map[string]string{"r.yaml": "a: ["}}}, "rule file r.yaml of configmap cm is not valid yaml"},
	} {
		_, err := customrules.Read(c.cms)
		require.ErrorIs(t, err, customrules.ErrInvalid, name)
		assert.Contains(t, err.Error(), c.want, name)
	}
}

// TestValidate: custom rules load on top of the base (a macro of the base
// is known) and their errors name configmap/file:line:col; the base's own
// problems are not reported.
func TestValidate(t *testing.T) {
	base := []*rules.Source{{Name: "falco_rules.yaml", Data: []byte("- macro: spawned_process\n  condition: evt.type = execve\n- rule: broken in base\n  desc: x\n")}}
	ok := []customrules.File{{ConfigMap: "team", Name: "a.yaml", Data: []byte("- rule: Team shell\n  desc: x\n  condition: spawned_process and proc.name = bash\n  output: shell\n  priority: WARNING\n")}}
	assert.Empty(t, customrules.Validate(base, ok, rules.Version{}))
	alone := customrules.Validate(nil, ok, rules.Version{})
	require.NotEmpty(t, alone, "without the base, spawned_process is unknown")
	bad := []customrules.File{{ConfigMap: "team", Name: "a.yaml", Data: []byte("- rule: Team shell\n  desc: x\n  condition: spawned_process and\n  output: shell\n  priority: WARNING\n")}}
	fs := customrules.Validate(base, bad, rules.Version{})
	require.Len(t, fs, 1)
	assert.Equal(t, "team/a.yaml", fs[0].File)
	assert.Equal(t, 3, fs[0].Line)
	assert.True(t, strings.HasPrefix(fs[0].String(), "team/a.yaml:3:"), fs[0].String())
}
