package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
)

// GitHubActionsIDToken asks the GitHub Actions runtime for an OIDC identity
// token with audience "sigstore", for SignOptions.IDToken (keyless signing
// in CI). The workflow needs `permissions: id-token: write`, which sets
// ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN. hc nil
// means http.DefaultClient.
func GitHubActionsIDToken(ctx context.Context, hc *http.Client) (string, error) {
	reqURL, reqToken := os.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), os.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if reqURL == "" || reqToken == "" {
		return "", errors.New("GitHub Actions identity token: ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN not set (not in Actions, or no `id-token: write` permission)")
	}
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions identity token: %w", err)
	}
	q := u.Query()
	q.Set("audience", "sigstore")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions identity token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+reqToken)
	req.Header.Set("Accept", "application/json")
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("GitHub Actions identity token: %w", err)
	}
	defer resp.Body.Close() //nolint:errcheck // read side: nothing to flush
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("GitHub Actions identity token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GitHub Actions identity token: %s", resp.Status)
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Value == "" {
		return "", fmt.Errorf("GitHub Actions identity token: unexpected answer (%d bytes)", len(body))
	}
	return out.Value, nil
}
