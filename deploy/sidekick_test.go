package deploy_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/secrets"
)

// TestRenderedMTLS: a server with the rendered falcosidekick-certs
// accepts a client with the rendered falco-certs, as Falco's http_output
// would connect, and refuses a client without a certificate.
func TestRenderedMTLS(t *testing.T) {
	in := cases(t)["sidekick"]
	certs, _, err := secrets.Ensure(nil, []string{"falcosidekick.kube-system.svc.cluster.local"}, time.Now(), secrets.DefaultLifetimes) //nolint:forbidigo // the TLS stack checks validity against the real clock
	require.NoError(t, err)
	sk := *in.Sidekick
	sk.Certs = certs
	in.Sidekick = &sk
	objs, err := deploy.Render(in)
	require.NoError(t, err)
	sec := map[string]*corev1.Secret{}
	for _, o := range objs {
		if s, ok := o.(*corev1.Secret); ok {
			sec[s.Name] = s
		}
	}
	server, client := sec["falcosidekick-certs"].Data, sec["falco-certs"].Data
	pair, err := tls.X509KeyPair(server[secrets.KeyServerCert], server[secrets.KeyServerKey])
	require.NoError(t, err)
	clientCAs := x509.NewCertPool()
	require.True(t, clientCAs.AppendCertsFromPEM(server[secrets.KeyClientCA]))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(client[secrets.KeyServerCA]))
	cert, err := tls.X509KeyPair(client[secrets.KeyClientCert], client[secrets.KeyClientKey])
	require.NoError(t, err)
	post := func(withCert bool) error {
		cfg := &tls.Config{RootCAs: roots, ServerName: "falcosidekick.kube-system.svc.cluster.local", MinVersion: tls.VersionTLS12}
		if withCert {
			cfg.Certificates = []tls.Certificate{cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
		resp, err := c.Post(srv.URL, "application/json", nil)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err
	}
	require.NoError(t, post(true))
	assert.Error(t, post(false))
}
