package oci

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// The cosign library talks to registries through go-containerregistry. These
// helpers give it the Client's transport (with its retries), credentials and
// plain-HTTP setting, so signing and verification behave like the rest.

// keychain hands the Client's credentials to go-containerregistry.
type keychain struct {
	ctx        context.Context
	credential auth.CredentialFunc
}

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(k.ctx, r)
}

func (k keychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	c, err := k.credential(ctx, r.RegistryStr())
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", r.RegistryStr(), err)
	}
	if c == auth.EmptyCredential {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      c.Username,
		Password:      c.Password,
		IdentityToken: c.RefreshToken,
		RegistryToken: c.AccessToken,
	}), nil
}

// nameOptions parse references for go-containerregistry.
func (c *Client) nameOptions() []name.Option {
	if c.plainHTTP {
		return []name.Option{name.Insecure}
	}
	return nil
}

// remoteOptions are the go-containerregistry options of one operation. Its
// own retries are off: the Client's transport already retries.
func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.ggcr),
		remote.WithAuthFromKeychain(keychain{ctx: ctx, credential: c.credential}),
		remote.WithUserAgent(c.userAgent),
		remote.WithRetryBackoff(remote.Backoff{Steps: 1}),
		remote.WithRetryStatusCodes(),
	}
}

// ociremoteOptions are the cosign registry options of one operation.
func (c *Client) ociremoteOptions(ctx context.Context) []ociremote.Option {
	return []ociremote.Option{
		ociremote.WithRemoteOptions(c.remoteOptions(ctx)...),
		ociremote.WithNameOptions(c.nameOptions()...),
	}
}
