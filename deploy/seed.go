package deploy

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// SeedObjects are what falcosidekick needs in the seed, in the shoot's
// namespace there (Gardener's ManagedResource of class seed): the token
// requestor Secret when its configuration uses the service account's
// token, and the ScrapeConfig with which the shoot's Prometheus scrapes
// its metrics. None when falcosidekick does not run.
func SeedObjects(in Inputs, namespace string) ([]runtime.Object, error) {
	if !sidekickOn(in) {
		return nil, nil
	}
	outputs, err := SidekickOutputs(in.Config, in.Operator, in.Sidekick.Destinations)
	if err != nil {
		return nil, err
	}
	var objs []runtime.Object
	if b, err := yamlBytes(outputs); err != nil {
		return nil, err
	} else if tokenNeeded(b) {
		objs = append(objs, tokenRequest(in, namespace))
	}
	return append(objs, scrapeConfig(namespace)), nil
}

// tokenRequest asks gardener-resource-manager for the ServiceAccount
// gardener-falcosidekick in the shoot and keeps its token in the shoot's
// Secret of that name, renewed at 80 % of its lifetime.
func tokenRequest(in Inputs, namespace string) *corev1.Secret {
	lifetime := "720h"
	if d := in.Operator.Events.ServiceAccountTokenLifetime; d != nil {
		lifetime = d.Duration.String()
	}
	return &corev1.Secret{TypeMeta: typeMeta("Secret"), ObjectMeta: metav1.ObjectMeta{Name: TokenSecretSeed, Namespace: namespace,
		Labels: map[string]string{"resources.gardener.cloud/purpose": "token-requestor", "resources.gardener.cloud/class": "shoot"},
		Annotations: map[string]string{
			"serviceaccount.resources.gardener.cloud/name":                      sidekickAccount,
			"serviceaccount.resources.gardener.cloud/namespace":                 Namespace,
			"serviceaccount.resources.gardener.cloud/token-expiration-duration": lifetime,
			"token-requestor.resources.gardener.cloud/target-secret-name":       sidekickAccount,
			"token-requestor.resources.gardener.cloud/target-secret-namespace":  Namespace,
		}}, Type: corev1.SecretTypeOpaque}
}

// scrapeConfig has the shoot's Prometheus scrape falcosidekick's
// http-notls port through the shoot's API server (pod proxy), as
// Gardener's extension does.
func scrapeConfig(namespace string) *unstructured.Unstructured {
	creds := map[string]any{"credentials": map[string]any{"key": "token", "name": "shoot-access-prometheus-shoot"}}
	tls := map[string]any{"ca": map[string]any{}, "cert": map[string]any{}, "insecureSkipVerify": true}
	replace := func(target string, extra map[string]any) map[string]any {
		r := map[string]any{"action": "replace", "targetLabel": target}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "monitoring.coreos.com/v1alpha1", "kind": "ScrapeConfig",
		"metadata": map[string]any{"name": "shoot-falco", "namespace": namespace, "labels": map[string]any{"prometheus": "shoot"}},
		"spec": map[string]any{
			"authorization": creds, "honorLabels": false, "scheme": "HTTPS", "tlsConfig": tls,
			"kubernetesSDConfigs": []any{map[string]any{"apiServer": "https://kube-apiserver", "authorization": creds, "role": "Endpoints",
				"namespaces": map[string]any{"names": []any{Namespace}}, "tlsConfig": tls}},
			"relabelings": []any{
				replace("type", map[string]any{"replacement": "shoot"}),
				map[string]any{"action": "keep", "regex": "falcosidekick;http-notls", "sourceLabels": []any{"__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"}},
				map[string]any{"action": "labelmap", "regex": "__meta_kubernetes_service_label_(.+)"},
				replace("pod", map[string]any{"sourceLabels": []any{"__meta_kubernetes_pod_name"}}),
				replace("node", map[string]any{"sourceLabels": []any{"__meta_kubernetes_pod_node_name"}}),
				replace("__address__", map[string]any{"replacement": "kube-apiserver:443"}),
				replace("__metrics_path__", map[string]any{"regex": "(.+);(.+)", "replacement": "/api/v1/namespaces/" + Namespace + "/pods/${1}:${2}/proxy/metrics",
					"sourceLabels": []any{"__meta_kubernetes_pod_name", "__meta_kubernetes_pod_container_port_number"}}),
			},
		},
	}}
}

func yamlBytes(v any) ([]byte, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("falcosidekick configuration: %w", err)
	}
	return b, nil
}
