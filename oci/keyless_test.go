package oci

import (
	"crypto/x509"
	"testing"

	"github.com/falcops/falcops/oci/ocitest"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeylessSigner covers the Fulcio leg of keyless signing against the
// stand-in: the ephemeral key is certified for the token's verified email
// and issuer, with the CA's chain.
func TestKeylessSigner(t *testing.T) {
	const identity = "ci@example.com"
	token := ocitest.JWT(t, map[string]any{"iss": "https://issuer.example", "sub": "repo:falcops/falcops", "email": identity, "email_verified": true})
	ca := ocitest.NewCA(t, "signer", true)
	fulcioURL := ocitest.Fulcio(t, ca, ocitest.FulcioOptions{Token: token, Identity: identity})
	c := newTestClient(t, nil, Options{})
	sv, certPEM, chainPEM, err := c.keylessSigner(SignOptions{IDToken: token, FulcioURL: fulcioURL})
	require.NoError(t, err)
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(certPEM)
	require.NoError(t, err)
	require.Len(t, certs, 1)
	pub, err := sv.PublicKey()
	require.NoError(t, err)
	require.NoError(t, cryptoutils.EqualKeys(pub, certs[0].PublicKey), "certificate is not for the signing key")
	assert.Equal(t, []string{identity}, certs[0].EmailAddresses)
	_, err = certs[0].Verify(x509.VerifyOptions{
		Roots: poolOf(ca.Root), Intermediates: poolOf(ca.Chain[0]), CurrentTime: certs[0].NotBefore,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	require.NoError(t, err, "the leaf chains to the CA")
	chain, err := cryptoutils.UnmarshalCertificatesFromPEM(chainPEM)
	require.NoError(t, err)
	assert.Len(t, chain, 2, "intermediate and root")

	// An unverified email is not an identity; a bad token is refused by
	// Fulcio.
	_, _, _, err = c.keylessSigner(SignOptions{IDToken: ocitest.JWT(t, map[string]any{"email": identity}), FulcioURL: fulcioURL})
	require.Error(t, err, "unverified email")
	other := ocitest.JWT(t, map[string]any{"email": identity, "email_verified": true, "iss": "x"})
	_, _, _, err = c.keylessSigner(SignOptions{IDToken: other, FulcioURL: fulcioURL})
	require.Error(t, err, "token Fulcio refuses")
	_, _, _, err = c.keylessSigner(SignOptions{IDToken: "not-a-jwt", FulcioURL: fulcioURL})
	require.Error(t, err, "not a JWT")
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
