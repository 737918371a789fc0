package version

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReport(t *testing.T) {
	Version = "1.2.3"
	t.Cleanup(func() { Version = "" })
	r := Report("falcops")
	assert.Contains(t, r, "falcops 1.2.3\n")
	assert.Contains(t, r, "go:             go1.")
	assert.Contains(t, r, "falco engines:  0.26.0 to 0.62.0 (Falco 0.36 to Falco 0.44)")
	assert.Contains(t, r, "application/vnd.cncf.falco.rulesfile.layer.v1+tar.gz")
	Version = ""
	assert.NotEmpty(t, Get().Version, "devel or the module version without ldflags")
}
