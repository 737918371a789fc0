package oci

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestGitHubActionsIDToken against a stand-in of the Actions token endpoint.
func TestGitHubActionsIDToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer runtime-token" || r.URL.Query().Get("audience") != "sigstore" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte(`{"value":"eyJ.id.token"}`))
	}))
	defer srv.Close()
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/token?api-version=2.0")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-token")
	tok, err := GitHubActionsIDToken(testContext(t), nil)
	if err != nil || tok != "eyJ.id.token" {
		t.Fatalf("token %q, %v", tok, err)
	}
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong")
	if _, err := GitHubActionsIDToken(testContext(t), nil); err == nil {
		t.Fatal("wrong runtime token: no error")
	}
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	if _, err := GitHubActionsIDToken(testContext(t), nil); err == nil {
		t.Fatal("outside Actions: no error")
	}
}
