package extension

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/falcops/falcops/deploy"
	"github.com/falcops/falcops/lifecycle"
	"github.com/falcops/falcops/secrets"
)

// CertificatesSecret keeps a shoot's falcosidekick certificates in the
// seed (like Gardener's gardener-extension-shoot-falco-service-certificates):
// they are renewed here, before they expire, and rendered into the shoot.
const CertificatesSecret = "falcops-sidekick-certificates"

var sidekickDNS = []string{"falcosidekick.kube-system.svc.cluster.local", "falcosidekick.kube-system.svc", "falcosidekick"}

// sidekick gathers what falcosidekick needs for this shoot.
func (r *Reconciler) sidekick(ctx context.Context, namespace string, shoot *unstructured.Unstructured, prof *lifecycle.Profile) (*deploy.Sidekick, error) {
	image := ""
	for _, v := range prof.FalcosidekickVersions() { // lowest first: the last supported one wins
		if v.Classification == "supported" && !v.Expired(r.Clock.Now()) {
			image = v.Image
		}
	}
	certs, err := r.certificates(ctx, namespace)
	if err != nil {
		return nil, err
	}
	dest := deploy.Destinations{Secrets: map[string]map[string][]byte{}}
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
			return nil, err
		}
		dest.Secrets[name] = s.Data
	}
	dest.ShortID = strings.TrimPrefix(namespace, "shoot--")
	clusterID, _, _ := unstructured.NestedString(shoot.Object, "status", "clusterIdentity")
	return &deploy.Sidekick{Image: image, Certs: certs, ClusterID: clusterID, Destinations: dest}, nil
}

// certificates returns the shoot's certificates, renewed when due.
func (r *Reconciler) certificates(ctx context.Context, namespace string) (map[string][]byte, error) {
	s := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: CertificatesSecret}, s)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	data, changed, err := secrets.Ensure(s.Data, sidekickDNS, r.Clock.Now(), secrets.DefaultLifetimes)
	if err != nil || !changed {
		return data, err
	}
	if s.ResourceVersion == "" {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: CertificatesSecret, Namespace: namespace, Labels: map[string]string{labelOrigin: Origin}},
			Type: corev1.SecretTypeOpaque, Data: data}
		err = r.Client.Create(ctx, s)
	} else {
		s.Data = data
		err = r.Client.Update(ctx, s)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", CertificatesSecret, err)
	}
	return data, nil
}
