package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/falcops/falcops/artifacts"
)

// Bounds on what the agent reads from a registry.
const (
	maxManifestSize = 4 << 20
	maxLayerSize    = 64 << 20
)

// ErrDigest means the registry served bytes whose digest is not the pinned one.
var ErrDigest = errors.New("digest mismatch")

// registry fetches manifests and blobs by digest over the OCI distribution
// API and checks each against its digest. It is the agent's own small client
// (the agent stays free of the garden-side registry stack): anonymous,
// basic or bearer-token access; plain HTTP only to loopback.
type registry struct {
	client    *http.Client
	plainHTTP bool
	basic     []BasicAuth
}

// layer returns the rules layer of the manifest pinned as p.
func (r registry) layer(ctx context.Context, p Pin) ([]byte, error) {
	manifest, err := r.get(ctx, p.Entry, "manifests/"+p.Digest, p.Digest, maxManifestSize,
		"application/vnd.oci.image.manifest.v1+json")
	if err != nil {
		return nil, err
	}
	var m struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", p.Ref(), err)
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != artifacts.MediaTypeRulesfileLayer {
		return nil, fmt.Errorf("%s: not a rules artifact: want one layer of %s", p.Ref(), artifacts.MediaTypeRulesfileLayer)
	}
	if m.Layers[0].Size > maxLayerSize {
		return nil, fmt.Errorf("%s: layer of %d bytes, more than %d", p.Ref(), m.Layers[0].Size, maxLayerSize)
	}
	return r.get(ctx, p.Entry, "blobs/"+m.Layers[0].Digest, m.Layers[0].Digest, maxLayerSize, "")
}

func (r registry) get(ctx context.Context, e artifacts.IndexEntry, path, dgst string, limit int64, accept string) ([]byte, error) {
	host := e.Registry
	scheme := "https"
	if r.plainHTTP {
		if !loopback(host) {
			return nil, fmt.Errorf("plain HTTP to %s refused: only loopback registries", host)
		}
		scheme = "http"
	}
	url := fmt.Sprintf("%s://%s/v2/%s/%s", scheme, host, e.Repository, path)
	resp, err := r.do(ctx, url, accept, host, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		_ = resp.Body.Close()
		token, err := r.token(ctx, host, challenge)
		if err != nil {
			return nil, err
		}
		if resp, err = r.do(ctx, url, accept, host, token); err != nil {
			return nil, err
		}
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, limit)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != dgst {
		return nil, fmt.Errorf("GET %s: %w: got %s", url, ErrDigest, got)
	}
	return data, nil
}

func (r registry) do(ctx context.Context, url, accept, host, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	switch {
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
	default:
		if b, ok := r.login(host); ok {
			req.SetBasicAuth(b.User, b.Password)
		}
	}
	return r.client.Do(req)
}

func (r registry) login(host string) (BasicAuth, bool) {
	for _, b := range r.basic {
		if b.Registry == host {
			return b, true
		}
	}
	return BasicAuth{}, false
}

// token answers a Bearer challenge (realm, service, scope) with the login
// for host, if any.
func (r registry) token(ctx context.Context, host, challenge string) (string, error) {
	params, ok := strings.CutPrefix(challenge, "Bearer ")
	if !ok {
		return "", fmt.Errorf("registry %s: unauthorized (challenge %q)", host, challenge)
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		fields[k] = strings.Trim(v, `"`)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fields["realm"], nil)
	if err != nil {
		return "", fmt.Errorf("registry %s: token realm: %w", host, err)
	}
	q := req.URL.Query()
	for _, k := range []string{"service", "scope"} {
		if fields[k] != "" {
			q.Set(k, fields[k])
		}
	}
	req.URL.RawQuery = q.Encode()
	if b, ok := r.login(host); ok {
		req.SetBasicAuth(b.User, b.Password)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("registry %s: token: %s", host, resp.Status)
	}
	var t struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&t); err != nil {
		return "", fmt.Errorf("registry %s: token: %w", host, err)
	}
	if t.Token == "" {
		t.Token = t.AccessToken
	}
	return t.Token, nil
}

func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
