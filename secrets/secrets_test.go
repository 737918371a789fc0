package secrets_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/falcops/falcops/secrets"
)

var (
	t0  = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	dns = []string{"falcosidekick.kube-system.svc.cluster.local"}
	day = 24 * time.Hour
)

func pool(t *testing.T, bundle []byte) *x509.CertPool {
	p := x509.NewCertPool()
	require.True(t, p.AppendCertsFromPEM(bundle))
	return p
}

// handshake runs an mTLS server from data (server certificate, client CA
// bundle) at now and connects with the client certificate given.
func handshake(t *testing.T, data map[string][]byte, clientCert, clientKey []byte, now time.Time) error {
	serverCert, err := tls.X509KeyPair(data[secrets.KeyServerCert], data[secrets.KeyServerKey])
	require.NoError(t, err)
	clock := func() time.Time { return now }
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: pool(t, data[secrets.KeyClientCA]), Time: clock, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	cfg := &tls.Config{RootCAs: pool(t, data[secrets.KeyServerCA]), ServerName: dns[0], Time: clock, MinVersion: tls.VersionTLS12}
	if clientCert != nil {
		c, err := tls.X509KeyPair(clientCert, clientKey)
		require.NoError(t, err)
		cfg.Certificates = []tls.Certificate{c}
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(srv.URL, "https://"), cfg)
	if err != nil {
		return err
	}
	defer conn.Close() //nolint:errcheck // test connection
	// TLS 1.3 reports a refused client certificate on the first read.
	_, _ = conn.Write([]byte("GET / HTTP/1.0\r\nHost: x\r\n\r\n"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	return err
}

// TestMTLS: the server accepts the client certificate and refuses a client
// without one.
func TestMTLS(t *testing.T) {
	data, changed, err := secrets.Ensure(nil, dns, t0, secrets.DefaultLifetimes)
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, handshake(t, data, data[secrets.KeyClientCert], data[secrets.KeyClientKey], t0))
	assert.Error(t, handshake(t, data, nil, nil, t0), "no client certificate")
	other, _, err := secrets.Ensure(nil, dns, t0, secrets.DefaultLifetimes)
	require.NoError(t, err)
	assert.Error(t, handshake(t, data, other[secrets.KeyClientCert], other[secrets.KeyClientKey], t0), "a client certificate of another CA")
}

// TestRotation moves a fake clock: nothing changes while nothing is due;
// certificates are renewed 30 days before their 180 days end; the CAs 30
// days before their 2 years end, and then the old CA stays in the bundles
// so certificates of both verify through the overlap.
func TestRotation(t *testing.T) {
	l := secrets.DefaultLifetimes
	data, _, err := secrets.Ensure(nil, dns, t0, l)
	require.NoError(t, err)

	same, changed, err := secrets.Ensure(data, dns, t0.Add(100*day), l)
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, data, same)

	at := t0.Add(151 * day)
	renewed, changed, err := secrets.Ensure(data, dns, at, l)
	require.NoError(t, err)
	require.True(t, changed)
	assert.NotEqual(t, data[secrets.KeyServerCert], renewed[secrets.KeyServerCert])
	assert.Equal(t, data[secrets.KeyServerCA], renewed[secrets.KeyServerCA], "the CA is not due yet")
	require.NoError(t, handshake(t, renewed, renewed[secrets.KeyClientCert], renewed[secrets.KeyClientKey], at))
	require.NoError(t, handshake(t, renewed, data[secrets.KeyClientCert], data[secrets.KeyClientKey], at), "the old client certificate still works until it ends")

	// Keep renewing certificates until the CAs are due.
	cur := renewed
	for at = at.Add(150 * day); at.Before(t0.Add(l.CA - l.RenewBefore)); at = at.Add(150 * day) {
		cur, _, err = secrets.Ensure(cur, dns, at, l)
		require.NoError(t, err)
	}
	at = t0.Add(l.CA - l.RenewBefore + day)
	before := cur
	cur, changed, err = secrets.Ensure(cur, dns, at, l)
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, 2, strings.Count(string(cur[secrets.KeyClientCA]), "BEGIN CERTIFICATE"), "old and new client CA through the overlap")
	require.NoError(t, handshake(t, cur, cur[secrets.KeyClientCert], cur[secrets.KeyClientKey], at))
	require.NoError(t, handshake(t, cur, before[secrets.KeyClientCert], before[secrets.KeyClientKey], at), "a client not yet restarted keeps working")

	after, _, err := secrets.Ensure(cur, dns, t0.Add(l.CA+day), l)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(after[secrets.KeyClientCA]), "BEGIN CERTIFICATE"), "the old CA leaves the bundle when it ends")
	b, _ := pem.Decode(after[secrets.KeyServerCert])
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	assert.Equal(t, dns, c.DNSNames)
}

// TestCorruptDataIsReplaced: broken or missing entries are made again.
func TestCorruptDataIsReplaced(t *testing.T) {
	data, _, err := secrets.Ensure(nil, dns, t0, secrets.DefaultLifetimes)
	require.NoError(t, err)
	data[secrets.KeyServerKey] = []byte("garbage")
	fixed, changed, err := secrets.Ensure(data, dns, t0, secrets.DefaultLifetimes)
	require.NoError(t, err)
	assert.True(t, changed)
	require.NoError(t, handshake(t, fixed, fixed[secrets.KeyClientCert], fixed[secrets.KeyClientKey], t0))
}

// TestCentralJWT: the token verifies with the issuer's public key and
// carries the cluster identity where falco-event-ingestor reads it
// (gardener-falco.cluster-identity, a nested claim); an expired or soon
// expiring one is replaced, a valid one kept.
func TestCentralJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tok, err := secrets.MintJWT(secrets.Central, key, "landscape-1/shoot--p--s", t0, secrets.DefaultJWTExpiry)
	require.NoError(t, err)
	c, err := secrets.VerifyJWT(tok, &key.PublicKey, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "landscape-1/shoot--p--s", c.ClusterIdentity(secrets.Central))
	assert.Empty(t, c.ClusterIdentity(secrets.Identity), "a central token is not an identity token")
	assert.Equal(t, "urn:gardener:gardener-falco-extension", c.Issuer)
	assert.Equal(t, "falco-db", c.Audience)
	var raw map[string]any
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(payload, &raw))
	assert.Equal(t, map[string]any{"cluster-identity": "landscape-1/shoot--p--s"}, raw["gardener-falco"])
	assert.Equal(t, time.Unix(c.Expiry, 0), secrets.Expiry(tok))

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = secrets.VerifyJWT(tok, &other.PublicKey, t0)
	assert.ErrorContains(t, err, "signature")
	_, err = secrets.VerifyJWT(tok, &key.PublicKey, t0.Add(8*day))
	assert.ErrorContains(t, err, "expired")
	parts := strings.Split(tok, ".")
	_, err = secrets.VerifyJWT(parts[0]+"."+parts[1]+"x."+parts[2], &key.PublicKey, t0)
	assert.Error(t, err, "a changed claim")

	kept, renewed, err := secrets.EnsureJWT(secrets.Central, tok, key, "landscape-1/shoot--p--s", t0.Add(day), secrets.DefaultJWTExpiry, day)
	require.NoError(t, err)
	assert.False(t, renewed)
	assert.Equal(t, tok, kept)
	fresh, renewed, err := secrets.EnsureJWT(secrets.Central, tok, key, "landscape-1/shoot--p--s", t0.Add(6*day+time.Hour), secrets.DefaultJWTExpiry, day)
	require.NoError(t, err)
	assert.True(t, renewed)
	c, err = secrets.VerifyJWT(fresh, &key.PublicKey, t0.Add(10*day))
	require.NoError(t, err)
	assert.Equal(t, t0.Add(6*day+time.Hour).Add(secrets.DefaultJWTExpiry).Unix(), c.Expiry)
	moved, renewed, err := secrets.EnsureJWT(secrets.Central, fresh, key, "landscape-2/shoot--p--s", t0.Add(7*day), secrets.DefaultJWTExpiry, day)
	require.NoError(t, err)
	assert.True(t, renewed, "another identity is a new token")
	c, err = secrets.VerifyJWT(moved, &key.PublicKey, t0.Add(7*day))
	require.NoError(t, err)
	assert.Equal(t, "landscape-2/shoot--p--s", c.ClusterIdentity(secrets.Central))
	_, err = secrets.MintJWT(secrets.Central, key, "", t0, day)
	assert.ErrorContains(t, err, "no cluster identity")
}

// TestIdentityJWT: the <<.ClusterIdentityToken>> has the identity as its
// subject and no audience, and is never mistaken for a central token.
func TestIdentityJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tok, err := secrets.MintJWT(secrets.Identity, key, "landscape-1/shoot--p--s", t0, day)
	require.NoError(t, err)
	c, err := secrets.VerifyJWT(tok, &key.PublicKey, t0)
	require.NoError(t, err)
	assert.Equal(t, "landscape-1/shoot--p--s", c.Subject)
	assert.Empty(t, c.Audience)
	assert.Equal(t, "landscape-1/shoot--p--s", c.ClusterIdentity(secrets.Identity))
	assert.Empty(t, c.ClusterIdentity(secrets.Central))
	_, renewed, err := secrets.EnsureJWT(secrets.Central, tok, key, "landscape-1/shoot--p--s", t0, day, time.Hour)
	require.NoError(t, err)
	assert.True(t, renewed, "an identity token does not serve as the central one")
}

func TestParseRSAKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	for name, data := range map[string][]byte{
		"pkcs1": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"pkcs8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	} {
		got, err := secrets.ParseRSAKey(data)
		require.NoError(t, err, name)
		assert.True(t, got.Equal(key), name)
	}
	_, err = secrets.ParseRSAKey([]byte("nope"))
	assert.ErrorContains(t, err, "no PEM block")
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	_, err = secrets.ParseRSAKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	assert.ErrorContains(t, err, "want an RSA key")
}

// TestSubstituteToken: the token goes where the placeholder is; a token
// that is not JWT-shaped (it could inject YAML) is refused.
func TestSubstituteToken(t *testing.T) {
	cfg := []byte("loki:\n  customheaders:\n    Authorization: Bearer SA_TOKEN\notlp:\n  logs:\n    headers: Authorization=Bearer SA_TOKEN\n")
	out, err := secrets.SubstituteToken(cfg, []byte("eyJh.eyJi.c2ln\n"))
	require.NoError(t, err)
	assert.Equal(t, "loki:\n  customheaders:\n    Authorization: Bearer eyJh.eyJi.c2ln\notlp:\n  logs:\n    headers: Authorization=Bearer eyJh.eyJi.c2ln\n", string(out))
	for _, bad := range []string{"", "a b", "x\ninjected: true", strings.Repeat("a", 17<<10)} {
		_, err := secrets.SubstituteToken(cfg, []byte(bad))
		assert.Error(t, err, bad)
	}
}

// TestRenewAt: the first renewal due is the earliest certificate's end
// less RenewBefore, and Ensure renews at that time and not before.
func TestRenewAt(t *testing.T) {
	l := secrets.Lifetimes{CA: 300 * day, Cert: 100 * day, RenewBefore: 10 * day}
	assert.True(t, secrets.RenewAt(nil, l).IsZero())
	data, _, err := secrets.Ensure(nil, dns, t0, l)
	require.NoError(t, err)
	at := secrets.RenewAt(data, l)
	assert.WithinDuration(t, t0.Add(90*day), at, 2*time.Minute)
	_, changed, err := secrets.Ensure(data, dns, at.Add(-time.Hour), l)
	require.NoError(t, err)
	assert.False(t, changed)
	_, changed, err = secrets.Ensure(data, dns, at.Add(time.Hour), l)
	require.NoError(t, err)
	assert.True(t, changed)
}
