package secrets_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
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
// carries the cluster identity; an expired or soon expiring one is
// replaced, a valid one kept.
func TestCentralJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tok, err := secrets.MintJWT(key, "landscape-1/shoot--p--s", t0, secrets.DefaultJWTExpiry)
	require.NoError(t, err)
	c, err := secrets.VerifyJWT(tok, &key.PublicKey, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "landscape-1/shoot--p--s", c.ClusterIdentity)
	assert.Equal(t, "urn:gardener:gardener-falco-extension", c.Issuer)
	assert.Equal(t, "falco-db", c.Audience)

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = secrets.VerifyJWT(tok, &other.PublicKey, t0)
	assert.ErrorContains(t, err, "signature")
	_, err = secrets.VerifyJWT(tok, &key.PublicKey, t0.Add(8*day))
	assert.ErrorContains(t, err, "expired")
	parts := strings.Split(tok, ".")
	_, err = secrets.VerifyJWT(parts[0]+"."+parts[1]+"x."+parts[2], &key.PublicKey, t0)
	assert.Error(t, err, "a changed claim")

	kept, renewed, err := secrets.EnsureJWT(tok, key, "landscape-1/shoot--p--s", t0.Add(day), secrets.DefaultJWTExpiry, day)
	require.NoError(t, err)
	assert.False(t, renewed)
	assert.Equal(t, tok, kept)
	fresh, renewed, err := secrets.EnsureJWT(tok, key, "landscape-1/shoot--p--s", t0.Add(6*day+time.Hour), secrets.DefaultJWTExpiry, day)
	require.NoError(t, err)
	assert.True(t, renewed)
	c, err = secrets.VerifyJWT(fresh, &key.PublicKey, t0.Add(10*day))
	require.NoError(t, err)
	assert.Equal(t, t0.Add(6*day+time.Hour).Add(secrets.DefaultJWTExpiry).Unix(), c.Expiry)
}
