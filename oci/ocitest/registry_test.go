package ocitest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
