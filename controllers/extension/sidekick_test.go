package extension_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/falcops/falcops/agent"
	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
	"github.com/falcops/falcops/controllers/extension"
	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/secrets"
)

// TestSidekickTokens drives the tokens of falcosidekick through the
// extension with a fake clock: the seed objects (token requestor Secret,
// ScrapeConfig) are accepted by a seed API server with Gardener's CRDs;
// the central JWT verifies with the issuer's public key and names the
// cluster; it is kept while fresh and replaced before it expires; a token
// the token requestor renewed rolls falcosidekick (its pod template
// changes), and the rendered init container's program turns the rendered
// template and a token file into a configuration without the placeholder.
func TestSidekickTokens(t *testing.T) {
	ctx := context.Background()
	l, reg, op := landscape(t)
	sc := seed(t).Client
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "central.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
	op.Events.Central = &configv1alpha1.Central{URL: "https://central.example/events", TokenIssuer: configv1alpha1.TokenIssuer{PrivateKeyFile: keyFile}}
	configv1alpha1.Default(op)
	require.NoError(t, configv1alpha1.Validate(op))
	keys, err := extension.LoadKeys(op)
	require.NoError(t, err)

	require.NoError(t, sc.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	shoot := map[string]any{"apiVersion": "core.gardener.cloud/v1beta1", "kind": "Shoot", "metadata": map[string]any{"name": "prod", "namespace": "garden-p"},
		"spec": map[string]any{"extensions": []any{map[string]any{"type": servicev1alpha1.Type}}}, "status": map[string]any{"clusterIdentity": "prod-1234-garden"}}
	shootRaw, err := json.Marshal(shoot)
	require.NoError(t, err)
	require.NoError(t, sc.Create(ctx, &extensionsv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: ns}, Spec: extensionsv1alpha1.ClusterSpec{
		CloudProfile: runtime.RawExtension{Raw: []byte("{}")}, Shoot: runtime.RawExtension{Raw: shootRaw},
		Seed: &runtime.RawExtension{Raw: []byte(`{"spec":{"ingress":{"domain":"ingress.seed.example"}}}`)}}}))
	version, yes := "0.42.1", true
	dests := []servicev1alpha1.Destination{{Name: "logging"}, {Name: "central"}}
	pc, err := json.Marshal(&servicev1alpha1.FalcoServiceConfig{APIVersion: servicev1alpha1.SchemeGroupVersion.String(), Kind: servicev1alpha1.Kind,
		FalcoVersion: &version, HeartbeatEvent: &yes, Destinations: &dests, Rules: &servicev1alpha1.Rules{StandardRules: &[]string{"falco-rules"},
			Pinned: []servicev1alpha1.PinnedRuleset{pin(l, "custom-example", "0.1.0", l.Digests["custom-example"]), pin(l, "heartbeat", "2.0.0", l.Digests["heartbeat"])}}})
	require.NoError(t, err)
	require.NoError(t, sc.Create(ctx, &extensionsv1alpha1.Extension{ObjectMeta: metav1.ObjectMeta{Name: "shoot-falco-service", Namespace: ns},
		Spec: extensionsv1alpha1.ExtensionSpec{DefaultSpec: extensionsv1alpha1.DefaultSpec{Type: servicev1alpha1.Type, ProviderConfig: &runtime.RawExtension{Raw: pc}}}}))

	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	clock := clocktesting.NewFakeClock(start)
	r := &extension.Reconciler{Client: sc, Operator: op, Sources: reg, Keys: keys, Clock: clock}
	reconcile := func() {
		t.Helper()
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "shoot-falco-service"}})
		require.NoError(t, err)
	}
	reconcile()

	// The seed objects, applied as gardener-resource-manager would.
	seedObjs := map[string]*unstructured.Unstructured{}
	for _, u := range managed(t, sc, extension.SeedManagedResource) {
		seedObjs[u.GetKind()+"/"+u.GetName()] = u
		require.NoError(t, sc.Create(ctx, u.DeepCopy(), client.FieldValidation("Strict")), "%s/%s", u.GetKind(), u.GetName())
	}
	require.Contains(t, seedObjs, "ScrapeConfig/shoot-falco")
	require.Contains(t, seedObjs, "Secret/"+deploy.TokenSecretSeed, "logging pushes with the service account's token")
	assert.Equal(t, "token-requestor", seedObjs["Secret/"+deploy.TokenSecretSeed].GetLabels()["resources.gardener.cloud/purpose"])

	sidekick := func() (jwt string, cfg map[string]any, template []byte, podAnnotations map[string]string) {
		t.Helper()
		for _, u := range managed(t, sc, extension.ShootManagedResource) {
			switch u.GetKind() + "/" + u.GetName() {
			case "Secret/falcosidekick":
				b64, _, _ := unstructured.NestedString(u.Object, "data", "config.yaml")
				var err error
				template, err = base64.StdEncoding.DecodeString(b64)
				require.NoError(t, err)
				require.NoError(t, sigsyaml.Unmarshal(template, &cfg))
				jwt, _, _ = unstructured.NestedString(cfg, "webhook", "customheaders", "Authorization")
			case "Deployment/falcosidekick":
				podAnnotations, _, _ = unstructured.NestedStringMap(u.Object, "spec", "template", "metadata", "annotations")
			}
		}
		require.NotNil(t, cfg, "falcosidekick's configuration is rendered")
		return strings.TrimPrefix(jwt, "Bearer "), cfg, template, podAnnotations
	}
	first, cfg, template, annotations := sidekick()
	claims, err := secrets.VerifyJWT(first, &key.PublicKey, clock.Now())
	require.NoError(t, err)
	assert.Equal(t, "prod-1234-garden", claims.ClusterIdentity(secrets.Central))
	assert.Equal(t, "https://central.example/events", cfg["webhook"].(map[string]any)["address"])
	assert.Equal(t, "https://v-garden-p--prod.ingress.seed.example", cfg["loki"].(map[string]any)["hostport"], "Vali under the seed's ingress domain")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = secrets.VerifyJWT(first, &other.PublicKey, clock.Now())
	require.Error(t, err, "another key does not verify it")

	// The init container's program: the rendered template and the token
	// requestor's token give the configuration falcosidekick reads.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "template.yaml"), template, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzaWRla2ljayJ9.c2ln"), 0o600))
	require.NoError(t, agent.SidekickConfig(filepath.Join(dir, "template.yaml"), filepath.Join(dir, "token"), filepath.Join(dir, "config.yaml")))
	final, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	require.NoError(t, err)
	assert.NotContains(t, string(final), secrets.TokenPlaceholder)
	assert.Contains(t, string(final), "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzaWRla2ljayJ9.c2ln")

	// A day later the token is kept: falcosidekick does not roll.
	clock.SetTime(start.Add(24 * time.Hour))
	reconcile()
	kept, _, _, _ := sidekick()
	assert.Equal(t, first, kept)

	// The token requestor renews the service account's token: the pod
	// template changes, so the Deployment rolls and reads the new one.
	tokenSecret := &corev1.Secret{}
	require.NoError(t, sc.Get(ctx, client.ObjectKey{Namespace: ns, Name: deploy.TokenSecretSeed}, tokenSecret))
	tokenSecret.Annotations["serviceaccount.resources.gardener.cloud/token-renew-timestamp"] = start.Add(25 * time.Hour).Format(time.RFC3339)
	require.NoError(t, sc.Update(ctx, tokenSecret))
	reconcile()
	_, _, _, rolled := sidekick()
	assert.NotEqual(t, annotations["falcops.io/token-renewed"], rolled["falcops.io/token-renewed"])
	assert.Equal(t, start.Add(25*time.Hour).Format(time.RFC3339), rolled["falcops.io/token-renewed"])

	// Six days in (less than a fifth of the 7-day lifetime left): a new
	// token that outlives the old one.
	clock.SetTime(start.Add(6 * 24 * time.Hour))
	reconcile()
	renewed, _, _, _ := sidekick()
	require.NotEqual(t, first, renewed)
	newClaims, err := secrets.VerifyJWT(renewed, &key.PublicKey, clock.Now())
	require.NoError(t, err)
	assert.Greater(t, newClaims.Expiry, claims.Expiry)
	assert.Equal(t, "prod-1234-garden", newClaims.ClusterIdentity(secrets.Central))
	_, err = secrets.VerifyJWT(first, &key.PublicKey, start.Add(8*24*time.Hour))
	require.Error(t, err, "the old token has expired by then")
	_, err = secrets.VerifyJWT(renewed, &key.PublicKey, start.Add(8*24*time.Hour))
	require.NoError(t, err, "the new one has not")
}
