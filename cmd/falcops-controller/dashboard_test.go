package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/falcops/falcops/internal/testenv"
)

// TestDashboardAuth: off the loopback path, the dashboard answers only
// callers the API server authenticates and that the dashboard viewer role
// (config/rbac) authorizes, over HTTPS; on loopback it is plain HTTP, for
// kubectl port-forward. Both show the controller's shoots.
func TestDashboardAuth(t *testing.T) {
	secureAddr, plainAddr := freeAddr(t), freeAddr(t)
	h := newHarness(t, func(o *options) { o.dashboard.addr, o.dashboard.secure = secureAddr, true })
	for _, o := range kustomize(t, "config/rbac") {
		if o.GetKind() == "ClusterRole" && o.GetName() == "falcops-dashboard-viewer" {
			require.NoError(t, client.IgnoreAlreadyExists(h.c.Create(h.ctx, o)))
			t.Cleanup(func() { _ = h.c.Delete(context.Background(), o) }) // TestInstallManifests creates it
		}
	}
	viewer, nobody := h.token("operator"), h.token("nobody")
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dashboard-" + h.ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "falcops-dashboard-viewer"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "operator", Namespace: h.ns}}}
	require.NoError(t, h.c.Create(h.ctx, binding))
	t.Cleanup(func() { _ = h.c.Delete(context.Background(), binding) })
	applyProfile(t, h.c, "0.42.1=supported")
	h.shoot("web", "0.42.1")
	h.start(testenv.Shared(t))
	// A second manager of the same options on loopback, without TLS.
	plain := defaultOptions(t)
	plain.manager.namespace, plain.dashboard.addr = h.ns, plainAddr
	plainOpts, err := plain.managerOptions()
	require.NoError(t, err)
	testenv.Shared(t).StartManager(t, plainOpts, func(mgr ctrl.Manager) error {
		return plain.dashboard.setup(context.Background(), mgr, clock.RealClock{})
	})

	get := func(url, token string) (int, string) { return getAs(t, url, token) }
	page := "https://" + secureAddr + "/dashboard/"
	h.eventually(func(c *assert.CollectT) {
		code, body := get(page, viewer)
		assert.Equal(c, http.StatusOK, code)
		assert.Contains(c, body, `data-shoots="1"`)
	}, "the dashboard shows the shoot to a viewer")
	code, _ := get(page, "")
	assert.Equal(t, http.StatusUnauthorized, code, "no token")
	code, _ = get(page, nobody)
	assert.Equal(t, http.StatusForbidden, code, "no viewer role")
	code, _ = get("http://"+secureAddr+"/dashboard/", viewer)
	assert.NotEqual(t, http.StatusOK, code, "no plain HTTP off loopback")
	h.eventually(func(c *assert.CollectT) {
		code, body := get("http://"+plainAddr+"/dashboard/", "")
		assert.Equal(c, http.StatusOK, code)
		assert.Contains(c, body, `data-shoots="1"`)
	}, "on loopback the dashboard needs no token")
}
