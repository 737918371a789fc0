package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/falcops/falcops/internal/testenv"
)

// freeAddr is a 127.0.0.1 address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestMetricsAuth: /metrics answers only callers the API server
// authenticates and authorizes, with the controller running under exactly
// its generated RBAC (it needs tokenreviews and subjectaccessreviews).
func TestMetricsAuth(t *testing.T) {
	addr := freeAddr(t)
	h := newHarness(t, func(o *options) { o.manager.namespace, o.manager.metricsAddr = "falcops-system", addr })
	for _, o := range kustomize(t, "config/default") {
		switch o.GetKind() {
		case "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			require.NoError(t, client.IgnoreAlreadyExists(h.c.Create(h.ctx, o)), "%s/%s", o.GetKind(), o.GetName())
		}
	}
	env := *testenv.Shared(t)
	reader, nobody := h.token("prometheus"), h.token("nobody")
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "metrics-" + h.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "falcops-metrics-reader"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: h.ns}}}
	require.NoError(t, h.c.Create(h.ctx, binding))
	t.Cleanup(func() { _ = h.c.Delete(context.Background(), binding) })

	env.Config = rest.CopyConfig(env.Config)
	env.Config.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:falcops-system:falcops-controller"}
	h.start(&env)

	get := func(token string) (int, string) { return getAs(t, "https://"+addr+"/metrics", token) }
	h.eventually(func(c *assert.CollectT) {
		code, _ := get(reader)
		assert.Equal(c, http.StatusOK, code)
	}, "metrics served to an authorized ServiceAccount")
	code, body := get(reader)
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, strings.Contains(body, "controller_runtime_reconcile_total"), "metrics body")
	code, _ = get("")
	assert.Equal(t, http.StatusUnauthorized, code, "no token")
	code, _ = get(nobody)
	assert.Equal(t, http.StatusForbidden, code, "a ServiceAccount without the metrics reader role")
	// controller-runtime's filter answers 500 when the TokenReview itself
	// fails, as it does for a token that is no JWT: refused all the same.
	code, _ = get("not-a-token")
	assert.GreaterOrEqual(t, code, 400, "a bad token is refused")
}

// token creates the ServiceAccount name in the test's namespace and
// returns a token of it.
func (h *harness) token(name string) string {
	h.t.Helper()
	require.NoError(h.t, h.c.Create(h.ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns}}))
	cs := kubernetes.NewForConfigOrDie(testenv.Shared(h.t).Config)
	tr, err := cs.CoreV1().ServiceAccounts(h.ns).CreateToken(h.ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(h.t, err)
	return tr.Status.Token
}

// getAs GETs url with token as bearer ("" for none) and returns the status
// and body, or 0 and the error. A server's self-signed certificate is
// accepted: the tests check who may read, not the certificate.
func getAs(t *testing.T, url, token string) (int, string) {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // see above
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close() //nolint:errcheck // test
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(body)
}
