package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "falcops ")
	assert.Contains(t, out, "falco engines:")
	assert.Contains(t, out, "application/vnd.cncf.falco.rulesfile.config.v1+json")
	code, again, _ := runCLI(t, "--version")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, out, again, "--version prints what version prints")
}
