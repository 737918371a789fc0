package extension

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	extensionsv1alpha1 "github.com/gardener/gardener/pkg/apis/extensions/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/secrets"
)

// The Secrets the extension keeps in the seed's shoot namespace.
const (
	// CertificatesSecret holds a shoot's falcosidekick certificates (like
	// Gardener's gardener-extension-shoot-falco-service-certificates):
	// they are renewed here, before they expire, and rendered into the
	// shoot.
	CertificatesSecret = "falcops-sidekick-certificates"
	// TokensSecret holds the shoot's central and cluster-identity JWTs,
	// reused until a fifth of their lifetime is left: a token that
	// changed at every reconcile would roll falcosidekick every time.
	TokensSecret = "falcops-sidekick-tokens"
)

var sidekickDNS = []string{"falcosidekick.kube-system.svc.cluster.local", "falcosidekick.kube-system.svc", "falcosidekick"}

// Keys sign the tokens of the central destination and of global defaults.
type Keys struct {
	Central, Identity *rsa.PrivateKey
}

// LoadKeys reads the private keys the operator configuration names.
func LoadKeys(op *configv1alpha1.Configuration) (Keys, error) {
	var k Keys
	load := func(path string, t *configv1alpha1.TokenIssuer) (*rsa.PrivateKey, error) {
		if t == nil {
			return nil, nil
		}
		data, err := os.ReadFile(t.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%s.privateKeyFile: %w", path, err)
		}
		key, err := secrets.ParseRSAKey(data)
		if err != nil {
			return nil, fmt.Errorf("%s.privateKeyFile %s: %w", path, t.PrivateKeyFile, err)
		}
		return key, nil
	}
	var err error
	if op.Events.Central != nil {
		if k.Central, err = load("events.central", &op.Events.Central.TokenIssuer); err != nil {
			return k, err
		}
	}
	k.Identity, err = load("events.clusterIdentityToken", op.Events.ClusterIdentityToken)
	return k, err
}

// sidekick gathers what falcosidekick needs for this shoot, and when the
// first of its certificates and tokens is due for renewal.
func (r *Reconciler) sidekick(ctx context.Context, namespace string, shoot *unstructured.Unstructured, prof *lifecycle.Profile) (*deploy.Sidekick, time.Time, error) {
	image := ""
	for _, v := range prof.FalcosidekickVersions() { // lowest first: the last supported one wins
		if v.Classification == "supported" && !v.Expired(r.Clock.Now()) {
			image = v.Image
		}
	}
	lifetimes := r.lifetimes()
	certs, err := r.ensureSecret(ctx, namespace, CertificatesSecret, func(data map[string][]byte) (map[string][]byte, bool, error) {
		return secrets.Ensure(data, sidekickDNS, r.Clock.Now(), lifetimes)
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	renewAt := secrets.RenewAt(certs, lifetimes)
	clusterID, _, _ := unstructured.NestedString(shoot.Object, "status", "clusterIdentity")
	tokens, err := r.ensureSecret(ctx, namespace, TokensSecret, func(data map[string][]byte) (map[string][]byte, bool, error) {
		return r.ensureTokens(data, clusterID)
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	for key, issuer := range map[string]*configv1alpha1.TokenIssuer{"central": r.central(), "identity": r.Operator.Events.ClusterIdentityToken} {
		if exp := secrets.Expiry(string(tokens[key])); issuer != nil && !exp.IsZero() {
			if at := exp.Add(-issuer.TokenLifetime.Duration / 5); at.Before(renewAt) {
				renewAt = at
			}
		}
	}
	dest := deploy.Destinations{Secrets: map[string]map[string][]byte{}, CentralToken: string(tokens["central"]), ClusterIdentityToken: string(tokens["identity"])}
	res, _, _ := unstructured.NestedSlice(shoot.Object, "spec", "resources")
	for _, e := range res {
		m, _ := e.(map[string]any)
		ref, _ := m["resourceRef"].(map[string]any)
		if ref["kind"] != "Secret" {
			continue
		}
		name, _ := m["name"].(string)
		refName, _ := ref["name"].(string)
		s := &corev1.Secret{}
		switch err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "ref-" + refName}, s); {
		case apierrors.IsNotFound(err):
			continue // the destination names what it lacks
		case err != nil:
			return nil, time.Time{}, err
		}
		dest.Secrets[name] = s.Data
	}
	dest.ShortID = strings.TrimPrefix(namespace, "shoot--")
	if dest.IngressDomain, err = r.seedIngressDomain(ctx, namespace); err != nil {
		return nil, time.Time{}, err
	}
	renewed, err := r.tokenRenewed(ctx, namespace)
	if err != nil {
		return nil, time.Time{}, err
	}
	return &deploy.Sidekick{Image: image, Certs: certs, ClusterID: clusterID, Destinations: dest, TokenRenewed: renewed}, renewAt, nil
}

func (r *Reconciler) central() *configv1alpha1.TokenIssuer {
	if c := r.Operator.Events.Central; c != nil {
		return &c.TokenIssuer
	}
	return nil
}

func (r *Reconciler) lifetimes() secrets.Lifetimes {
	c := r.Operator.Events.Certificates
	l := secrets.DefaultLifetimes
	if c.CALifetime != nil && c.Lifetime != nil && c.RenewBefore != nil {
		l = secrets.Lifetimes{CA: c.CALifetime.Duration, Cert: c.Lifetime.Duration, RenewBefore: c.RenewBefore.Duration}
	}
	return l
}

// ensureTokens keeps each configured token valid for the cluster identity;
// without an identity (a shoot being created) there is none yet.
func (r *Reconciler) ensureTokens(data map[string][]byte, clusterID string) (map[string][]byte, bool, error) {
	out, changed := map[string][]byte{}, false
	for _, t := range []struct {
		key     string
		purpose secrets.Purpose
		signer  *rsa.PrivateKey
		issuer  *configv1alpha1.TokenIssuer
	}{
		{"central", secrets.Central, r.Keys.Central, r.central()},
		{"identity", secrets.Identity, r.Keys.Identity, r.Operator.Events.ClusterIdentityToken},
	} {
		if t.signer == nil || t.issuer == nil || clusterID == "" {
			changed = changed || len(data[t.key]) > 0
			continue
		}
		life := t.issuer.TokenLifetime.Duration
		tok, renewed, err := secrets.EnsureJWT(t.purpose, string(data[t.key]), t.signer, clusterID, r.Clock.Now(), life, life/5)
		if err != nil {
			return nil, false, fmt.Errorf("%s token: %w", t.key, err)
		}
		out[t.key], changed = []byte(tok), changed || renewed
	}
	return out, changed, nil
}

// ensureSecret reads the Secret, lets ensure renew its data and writes it
// back when something changed. An empty result removes nothing: it is
// written as empty.
func (r *Reconciler) ensureSecret(ctx context.Context, namespace, name string, ensure func(map[string][]byte) (map[string][]byte, bool, error)) (map[string][]byte, error) {
	s := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, s)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	data, changed, err := ensure(s.Data)
	if err != nil || !changed {
		return data, err
	}
	if s.ResourceVersion == "" {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{labelOrigin: Origin}},
			Type: corev1.SecretTypeOpaque, Data: data}
		err = r.Client.Create(ctx, s)
	} else {
		s.Data = data
		err = r.Client.Update(ctx, s)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return data, nil
}

// seedIngressDomain is the seed's ingress domain from the Cluster resource:
// the shoot's Vali and OTLP collector are served under it.
func (r *Reconciler) seedIngressDomain(ctx context.Context, namespace string) (string, error) {
	cluster := &extensionsv1alpha1.Cluster{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: namespace}, cluster); err != nil {
		return "", fmt.Errorf("cluster %s: %w", namespace, err)
	}
	if cluster.Spec.Seed == nil || len(cluster.Spec.Seed.Raw) == 0 {
		return "", nil
	}
	var seed map[string]any
	if err := json.Unmarshal(cluster.Spec.Seed.Raw, &seed); err != nil {
		return "", fmt.Errorf("cluster %s: spec.seed: %w", namespace, err)
	}
	domain, _, _ := unstructured.NestedString(seed, "spec", "ingress", "domain")
	return domain, nil
}
