package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
	"github.com/falcops/falcops/internal/sharedtest"
	"github.com/falcops/falcops/internal/testenv"
	"github.com/falcops/falcops/oci/ocitest"
)

// kustomize builds a kustomization of config/ as `kubectl apply -k` would.
func kustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(sharedtest.RepoRoot(t), dir))
	require.NoError(t, err, "kustomize build %s", dir)
	data, err := res.AsYaml()
	require.NoError(t, err)
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(string(data), "\n---\n") {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object))
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
	return objs
}

// TestInstallManifests: `kubectl apply -k config/default` renders the CRDs,
// RBAC and the Deployment, the API server accepts every object, the
// Deployment passes only flags the controller knows, and the samples are
// valid RuleSource and RolloutPolicy objects.
func TestInstallManifests(t *testing.T) {
	objs := kustomize(t, "config/default")
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
	}
	for _, want := range []string{
		"CustomResourceDefinition/falcoprofiles.falco.gardener.cloud", "CustomResourceDefinition/rulesources.falcops.dev",
		"CustomResourceDefinition/rolloutpolicies.falcops.dev", "CustomResourceDefinition/shootrollouts.falcops.dev",
		"Namespace/falcops-system", "ServiceAccount/falcops-controller", "ClusterRole/falcops-controller",
		"ClusterRoleBinding/falcops-controller", "Role/falcops-controller", "RoleBinding/falcops-controller",
		"Deployment/falcops-controller",
	} {
		assert.Contains(t, kinds, want)
	}

	env := testenv.Shared(t)
	ctx := t.Context()
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			require.NoError(t, client.IgnoreAlreadyExists(env.Client.Create(ctx, o.DeepCopy())))
		}
	}
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" || o.GetKind() == "Namespace" {
			continue // envtest installed the same CRD files
		}
		require.NoError(t, env.Client.Create(ctx, o, client.DryRunAll), "%s/%s", o.GetKind(), o.GetName())
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		var d appsv1.Deployment
		require.NoError(t, runtimeConvert(o, &d))
		c := d.Spec.Template.Spec.Containers[0]
		var opts options
		fs := newFlagSet()
		opts.BindFlags(fs)
		require.NoError(t, fs.Parse(c.Args), "the Deployment's args")
		assert.True(t, opts.manager.leaderElect, "two replicas need leader election")
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" })
		assert.GreaterOrEqual(t, i, 0, "GOMEMLIMIT keeps the heap under the memory limit")
	}

	for _, o := range kustomize(t, "config/samples") {
		require.NoError(t, env.Client.Create(ctx, o, client.DryRunAll), "sample %s/%s", o.GetKind(), o.GetName())
	}
}

func runtimeConvert(u *unstructured.Unstructured, into any) error {
	return k8sruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// TestRBAC runs the controller as its ServiceAccount with exactly the RBAC
// of config/ (impersonated, against the real API server): caches sync, a
// RuleSource verifies with a key Secret from falcops-system, and a shoot is
// pinned and moved, with its ShootRollout and events written.
func TestRBAC(t *testing.T) {
	h := newHarness(t, func(o *options) { o.manager.namespace = "falcops-system" })
	objs := kustomize(t, "config/default")
	for _, kinds := range [][]string{{"Namespace"}, {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}} {
		for _, o := range objs {
			if slices.Contains(kinds, o.GetKind()) {
				require.NoError(t, client.IgnoreAlreadyExists(h.c.Create(h.ctx, o)), "%s/%s", o.GetKind(), o.GetName())
			}
		}
	}
	secret := &corev1.Secret{Data: map[string][]byte{"cosign.pub": h.pub.PublicKey}}
	secret.Name, secret.Namespace = "cosign", "falcops-system"
	secret.Labels = map[string]string{falcopsv1alpha1.SecretLabel: "true"}
	require.NoError(t, client.IgnoreAlreadyExists(h.c.Create(h.ctx, secret)))
	t.Cleanup(func() { _ = h.c.Delete(context.Background(), secret) })

	applyProfile(t, h.c, "0.42.1=supported", "0.43.0=preview")
	dgst := h.pub.Publish(t, ocitest.RulesetArtifact(t, "falco-rules", "1.0.0", "0.50.0", ""), false)
	h.ruleSource("falco-rules", "1")
	h.shoot("rbac", "0.42.1")

	env := *testenv.Shared(t)
	env.Config = rest.CopyConfig(env.Config)
	env.Config.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:falcops-system:falcops-controller"}
	h.start(&env)

	h.eventually(func(c *assert.CollectT) {
		f := h.falco("rbac")
		if assert.Len(c, f.Pins, 1) {
			assert.Equal(c, h.pub.Repo("falco-rules")+"@"+dgst.String(), f.Pins[0].Ref)
		}
	}, "pinned by the controller running as its ServiceAccount")
	applyProfile(t, h.c, "0.42.1=supported", "0.43.0=supported")
	h.eventually(func(c *assert.CollectT) {
		assert.Equal(c, "0.43.0", h.falco("rbac").Version)
	}, "rbac should run Falco 0.43.0")
	h.waitEvent("rbac", falcopsv1alpha1.ReasonAutoUpdate, "Falco 0.42.1 -> 0.43.0")
	h.waitReason("rbac", falcopsv1alpha1.ReasonAutoUpdate)
}
