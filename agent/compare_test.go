package agent

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompareRefusesWhatThePinsDoNotHold(t *testing.T) {
	a := Pin{Name: "a", Digest: "sha256:aa"}
	want := map[string]pinnedFile{"x.yaml": {pin: a, index: 0, data: []byte("x")}, "y.yaml": {pin: a, index: 1, data: []byte("y")}}
	set, err := compare(Config{}, want, map[string][]byte{"x.yaml": []byte("x"), "y.yaml": []byte("y")})
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"010-x.yaml": []byte("x"), "020-y.yaml": []byte("y")}, set)

	_, err = compare(Config{}, want, map[string][]byte{"x.yaml": []byte("x"), "y.yaml": []byte("Y"), "z.yaml": nil})
	require.ErrorIs(t, err, ErrMismatch)
	assert.ErrorContains(t, err, "y.yaml differs from the layer of a@sha256:aa")
	assert.ErrorContains(t, err, "z.yaml is in no pinned layer")
	_, err = compare(Config{}, want, map[string][]byte{"x.yaml": []byte("x")})
	assert.ErrorContains(t, err, "y.yaml of a@sha256:aa was not installed")
}
