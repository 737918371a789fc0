package webhooks

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/yaml"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/admissiontest"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/rules"
	"github.com/falcops/falcops/shoot"
)

// TestWebhooksInAPIServer registers the shipped webhook configurations
// (config/webhook/webhooks.yaml) in a real kube-apiserver and serves them
// as falcops-controller does: shoots are defaulted and refused with the
// exact texts, custom rules that do not load are refused with their
// place, pins are the controller's, a profile version in use cannot be
// removed, and the server is not ready before its caches synced.
func TestWebhooksInAPIServer(t *testing.T) {
	env, wh := testenv.WithWebhooks(t, "config/webhook/webhooks.yaml")
	ctx := t.Context()
	heartbeat, err := os.ReadFile("../rulesets/heartbeat/heartbeat_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	op := &configv1alpha1.Configuration{}
	configv1alpha1.Default(op)
	opts := &Options{Operator: op, Base: func(context.Context, []string, []servicev1alpha1.PinnedRuleset) ([]*rules.Source, error) {
		return []*rules.Source{{Name: "heartbeat_rules.yaml", Data: heartbeat}}, nil
	}}
	var registered ctrl.Manager
	env.StartManager(t, ctrl.Options{WebhookServer: webhook.NewServer(webhook.Options{Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir})},
		func(mgr ctrl.Manager) error {
			registered = mgr
			// Before the manager starts, its caches cannot have synced.
			if err := readiness(mgr)(httptest.NewRequest("GET", "/readyz", nil)); err == nil {
				t.Error("ready before the caches synced")
			}
			return Register(ctx, mgr, opts)
		})
	waitReady(t, registered)
	if opts.ControllerUser == "" {
		t.Fatal("the controller's username was not learnt")
	}

	c := env.Client
	data, err := os.ReadFile(admissiontest.ProfilePath())
	if err != nil {
		t.Fatal(err)
	}
	prof := &profilev1alpha1.FalcoProfile{}
	if err := yaml.Unmarshal(data, prof); err != nil {
		t.Fatal(err)
	}
	must(t, c.Create(ctx, prof))
	must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "garden-team"}}))
	ns := "garden-team"
	must(t, c.Create(ctx, &gardencorev1beta1.Project{ObjectMeta: metav1.ObjectMeta{Name: "team"}, Spec: gardencorev1beta1.ProjectSpec{Namespace: &ns}}))

	// Defaulted on create.
	s := newShoot("minimal", nil)
	eventually(t, func() error { return c.Create(ctx, s) })
	got := shoot.New()
	must(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "minimal"}, got))
	f, _, err := shoot.FalcoOf(got)
	if err != nil || f.Version != "0.43.0" || !f.AutoUpdate || strings.Join(f.Standard, ",") != "falco-rules" {
		t.Fatalf("not defaulted: %+v %v", f, err)
	}

	// Refused with Gardener's text.
	bad := newShoot("both", map[string]any{"destinations": []any{map[string]any{"name": "logging"}, map[string]any{"name": "custom", "resourceSecretName": "hook"}}})
	denied(t, c.Create(ctx, bad), "logging and custom destinations cannot be used together")

	// A custom rule that does not load, refused with its place and code.
	must(t, c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "falco-team-rules"},
		Data: map[string]string{"a_rules.yaml": "- rule: Team shell\n  desc: a shell\n  condition: evt.type = execve and and proc.name = bash\n  output: shell\n  priority: WARNING\n"}}))
	custom := newShoot("custom", map[string]any{"rules": map[string]any{"custom": []any{map[string]any{"resourceName": "team-rules"}}}})
	must(t, unstructured.SetNestedSlice(custom.Object, []any{map[string]any{"name": "team-rules",
		"resourceRef": map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "name": "falco-team-rules"}}}, "spec", "resources"))
	denied(t, c.Create(ctx, custom), "falco-team-rules/a_rules.yaml:3:40: error:", "[LOAD_ERR_COMPILE_CONDITION]")

	// Pins: the owner may not add one; the controller's own patch passes;
	// the owner may remove it.
	owner := ownerClient(t, env)
	pin := servicev1alpha1.PinnedRuleset{Name: "falco-rules", Version: "5.0.0", Ref: "registry.example/falco-rules@sha256:" + strings.Repeat("1", 64)}
	mine := shoot.New()
	must(t, owner.Get(ctx, client.ObjectKey{Namespace: ns, Name: "minimal"}, mine))
	before := mine.DeepCopy()
	must(t, shoot.SetFalco(mine, "0.43.0", []servicev1alpha1.PinnedRuleset{pin}))
	denied(t, owner.Patch(ctx, mine, client.MergeFrom(before)), "rules.pinned[0] (falco-rules): only falcops-controller may set or change a pin")
	theirs := before.DeepCopy() // the controller's patch, as the maintenance controller sends it
	must(t, shoot.SetFalco(theirs, "0.43.0", []servicev1alpha1.PinnedRuleset{pin}))
	must(t, c.Patch(ctx, theirs, client.MergeFrom(before)))
	pinned := shoot.New()
	must(t, owner.Get(ctx, client.ObjectKey{Namespace: ns, Name: "minimal"}, pinned))
	unpinned := pinned.DeepCopy()
	must(t, shoot.SetFalco(unpinned, "0.43.0", nil))
	must(t, owner.Patch(ctx, unpinned, client.MergeFrom(pinned)))

	// A profile version in use cannot be removed.
	sr := &falcopsv1alpha1.ShootRollout{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "minimal"}, // no status subresource
		Status: falcopsv1alpha1.ShootRolloutStatus{FalcoVersion: "0.42.1"}}
	must(t, c.Create(ctx, sr))
	must(t, c.Get(ctx, client.ObjectKey{Name: "falco"}, prof))
	prof.Spec.Versions.Falco = slicesDelete(prof.Spec.Versions.Falco, "0.42.1")
	eventually(t, func() error {
		err := c.Update(ctx, prof)
		if err == nil || !strings.Contains(err.Error(), "Falco 0.42.1 is still run by 1 shoot:") {
			_ = c.Get(ctx, client.ObjectKey{Name: "falco"}, prof)
			prof.Spec.Versions.Falco = slicesDelete(prof.Spec.Versions.Falco, "0.42.1")
			return errString("removal was not refused: " + errText(err))
		}
		return nil
	})
}

type errString string

func (e errString) Error() string { return string(e) }

func errText(err error) string {
	if err == nil {
		return "allowed"
	}
	return err.Error()
}

func slicesDelete(vs []profilev1alpha1.FalcoVersion, version string) []profilev1alpha1.FalcoVersion {
	out := vs[:0]
	for _, v := range vs {
		if v.Version != version {
			out = append(out, v)
		}
	}
	return out
}

func newShoot(name string, config map[string]any) *unstructured.Unstructured {
	ext := map[string]any{"type": servicev1alpha1.Type}
	if config != nil {
		pc := map[string]any{"apiVersion": "falco.extensions.gardener.cloud/v1alpha1", "kind": "FalcoServiceConfig"}
		for k, v := range config {
			pc[k] = v
		}
		ext["providerConfig"] = pc
	}
	u := shoot.New()
	u.SetNamespace("garden-team")
	u.SetName(name)
	u.SetLabels(map[string]string{servicev1alpha1.ShootLabel: "true"})
	u.Object["spec"] = map[string]any{"extensions": []any{ext}}
	return u
}

// ownerClient impersonates a project member allowed to edit shoots.
func ownerClient(t *testing.T, env *testenv.Env) client.Client {
	t.Helper()
	ctx := t.Context()
	must(t, env.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "shoot-editor"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"core.gardener.cloud"}, Resources: []string{"shoots"}, Verbs: []string{"get", "list", "patch", "update", "create"}}}}))
	must(t, env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-shoot-editor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "shoot-editor"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "alice"}}}))
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "alice"}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitReady(t *testing.T, mgr ctrl.Manager) {
	t.Helper()
	check := readiness(mgr)
	eventually(t, func() error { return check(httptest.NewRequest("GET", "/readyz", nil)) })
}

// eventually retries f for up to 30s: the webhook server starts beside
// the caches.
func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func denied(t *testing.T, err error, texts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("admitted, want a refusal containing %q", texts)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("refusal %q does not contain %q", err.Error(), s)
		}
	}
}
