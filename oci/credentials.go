package oci

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
)

// maxDockerConfigSize bounds a Docker config read from a Secret.
const maxDockerConfigSize = 1 << 20

// DockerConfigCredential reads registry credentials from the content of a
// Docker config.json (a kubernetes.io/dockerconfigjson Secret's
// .dockerconfigjson): per host an "auth" (base64 user:password), or
// username and password, or an identity token. Hosts without an entry get
// no credentials.
func DockerConfigCredential(data []byte) (auth.CredentialFunc, error) {
	if len(data) > maxDockerConfigSize {
		return nil, fmt.Errorf("docker config: %d bytes, more than %d", len(data), maxDockerConfigSize)
	}
	var cfg struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	creds := make(map[string]auth.Credential, len(cfg.Auths))
	for host, a := range cfg.Auths {
		c := auth.Credential{Username: a.Username, Password: a.Password, RefreshToken: a.IdentityToken}
		if a.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(a.Auth)
			if err != nil {
				return nil, fmt.Errorf("docker config: auth of %s: %w", host, err)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("docker config: auth of %s is not user:password", host)
			}
			c.Username, c.Password = user, pass
		}
		if c == auth.EmptyCredential {
			return nil, fmt.Errorf("docker config: %s has no credentials", host)
		}
		creds[normalizeHost(host)] = c
	}
	if len(creds) == 0 {
		return nil, errors.New("docker config: no auths")
	}
	return func(_ context.Context, host string) (auth.Credential, error) {
		return creds[normalizeHost(host)], nil
	}, nil
}

// normalizeHost turns "https://host/v1/" into "host".
func normalizeHost(h string) string {
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	return h
}

// Anonymous is a Credential that sends none (not even the user's Docker
// configuration).
func Anonymous(context.Context, string) (auth.Credential, error) { return auth.EmptyCredential, nil }
