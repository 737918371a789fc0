package testenv

import (
	"context"
	"os"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/falcops/falcops/artifacts"
	"github.com/falcops/falcops/oci"
	"github.com/falcops/falcops/publish"
)

// Publisher publishes small signed rulesets to a registry, as `falcops
// publish` does: package, push, tag, sign.
type Publisher struct {
	Client *oci.Client
	Host   string
	// PublicKey is the PEM public key of Signer.
	PublicKey []byte
	Signer    signature.SignerVerifier
}

// NewPublisher generates a cosign key pair and returns a publisher for the
// registry at host (plain HTTP).
func NewPublisher(t testing.TB, host string) *Publisher {
	t.Helper()
	dir := t.TempDir()
	priv, pub, err := oci.GenerateKeyPair(dir, []byte("test"))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := oci.LoadSigner(context.Background(), priv, func() ([]byte, error) { return []byte("test"), nil })
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	c, err := oci.New(oci.Options{PlainHTTP: true, Credential: oci.Anonymous})
	if err != nil {
		t.Fatal(err)
	}
	return &Publisher{Client: c, Host: host, PublicKey: pem, Signer: signer}
}

// Repo is the repository of ruleset name.
func (p *Publisher) Repo(name string) string { return p.Host + "/rules/" + name }

// Publish releases the artifact as `falcops publish` does (X.Y.Z and the
// moving tags, signed), or only pushes and tags it when unsigned. It
// returns the manifest digest.
func (p *Publisher) Publish(t testing.TB, a *artifacts.Artifact, unsigned bool) digest.Digest {
	t.Helper()
	ctx := context.Background()
	if unsigned {
		res, err := p.Client.Publish(ctx, p.Repo(a.Config.Name), a, a.Config.Version)
		if err != nil {
			t.Fatalf("publishing %s %s: %v", a.Config.Name, a.Config.Version, err)
		}
		return res.Digest
	}
	res, err := publish.Artifact(ctx, a, publish.Options{Client: p.Client, Registry: publish.Registry{Host: p.Host, Prefix: "rules"},
		Sign: oci.SignOptions{Signer: p.Signer}})
	if err != nil {
		t.Fatalf("publishing %s %s: %v", a.Config.Name, a.Config.Version, err)
	}
	return res.Digest
}

// Sign signs repo@dgst with signer.
func (p *Publisher) Sign(t testing.TB, repo string, dgst digest.Digest, signer signature.SignerVerifier) {
	t.Helper()
	if err := p.Client.Sign(context.Background(), repo+"@"+dgst.String(), oci.SignOptions{Signer: signer}); err != nil {
		t.Fatalf("signing %s@%s: %v", repo, dgst, err)
	}
}
