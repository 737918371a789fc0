package diag

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindingString(t *testing.T) {
	f := Finding{Code: "LOAD_ERR_VALIDATE", Severity: Error, Message: "undefined macro 'm'", Position: At("a.yaml", 3, 7), Item: "rule 'r'"}
	assert.Equal(t, "a.yaml:3:7: error: undefined macro 'm' (rule 'r') [LOAD_ERR_VALIDATE]", f.String())
	f = Finding{Severity: Warning, Message: "never expires", Position: Position{File: "p.yaml"}}
	assert.Equal(t, "p.yaml: warning: never expires", f.String(), "no line and no code")
}

func TestFindingJSON(t *testing.T) {
	f := Finding{Code: "C", Severity: Warning, Message: "m", Position: At("f", 1, 2)}
	data, err := json.Marshal(f)
	require.NoError(t, err)
	assert.JSONEq(t, `{"code":"C","severity":"warning","message":"m","file":"f","line":1,"column":2}`, string(data))
	assert.Equal(t, `{"code":"C","severity":"warning","message":"m","file":"f","line":1,"column":2}`, string(data), "field order is part of the JSON output")
}

func TestFindingsSortAndCount(t *testing.T) {
	fs := Findings{
		{Code: "B", Severity: Warning, Position: At("b", 1, 1)},
		{Code: "Z", Severity: Error, Position: At("a", 2, 1)},
		{Code: "A", Severity: Error, Position: At("a", 2, 1)},
		{Code: "X", Severity: Info, Position: At("a", 1, 9)},
	}
	fs.Sort()
	var codes []string
	for _, f := range fs {
		codes = append(codes, f.Code)
	}
	assert.Equal(t, []string{"X", "A", "Z", "B"}, codes)
	assert.Equal(t, 2, fs.Errors())
	assert.Equal(t, 1, fs.Warnings())
	fs.Add("N", Error, At("c", 1, 1), "%d problems", 2)
	assert.Equal(t, "c:1:1: error: 2 problems [N]", fs[len(fs)-1].String())
	assert.Contains(t, fs.Error(), "\nc:1:1: error: 2 problems [N]")
}
