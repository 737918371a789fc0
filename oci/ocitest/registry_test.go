package ocitest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/artifacts"
)

func TestRegistryCountsStopsAndStarts(t *testing.T) {
	var wrapped int
	r := NewWith(t, Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { wrapped++; h.ServeHTTP(w, req) })
	}})
	get := func() (*http.Response, error) { return http.Get("http://" + r.Host + "/v2/") }
	resp, err := get()
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Head("http://" + r.Host + "/v2/x/manifests/1.0.0")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.EqualValues(t, 2, r.Requests())
	assert.EqualValues(t, 1, r.RequestsOf("HEAD manifests"))
	assert.Equal(t, 2, wrapped)

	r.Stop()
	_, err = get()
	require.Error(t, err, "a stopped registry refuses connections")
	r.Start(t)
	resp, err = get()
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRulesetFixtures(t *testing.T) {
	a := Package(t, Ruleset(t, "demo", "1.2.3", "0.50.0", "x"), artifacts.PackageOptions{})
	assert.Equal(t, "demo", a.Config.Name)
	assert.Equal(t, "1.2.3", a.Config.Version)
	b := Package(t, Ruleset(t, "demo", "1.2.3", "0.50.0", "y"), artifacts.PackageOptions{})
	assert.NotEqual(t, a.ManifestDigest, b.ManifestDigest, "the salt changes the digest")

	v := Package(t, Variant(t, "../../rulesets/heartbeat", "9.9.9", ""), artifacts.PackageOptions{})
	assert.Equal(t, "9.9.9", v.Config.Version)
	w := Package(t, Variant(t, "../../rulesets/heartbeat", "9.9.9", "other"), artifacts.PackageOptions{})
	assert.NotEqual(t, v.LayerDescriptor.Digest, w.LayerDescriptor.Digest, "a variant changes the layer")
}
