package shoot

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Slim is the cache transform for shoots: it keeps only what falcops reads
// (identity, labels, the maintain annotation, spec.extensions,
// spec.maintenance, status.lastOperation.state) and drops the rest, which
// in a real landscape is most of a Shoot (workers, provider config, status
// conditions, managed fields). A slimmed shoot must never be written with
// Update: falcops only sends merge patches computed between two slimmed
// copies, which touch nothing but the changed fields, guarded by the
// resourceVersion.
func Slim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	meta := map[string]any{}
	if m, ok := u.Object["metadata"].(map[string]any); ok {
		for _, k := range []string{"name", "namespace", "uid", "resourceVersion", "generation", "labels", "deletionTimestamp", "creationTimestamp"} {
			if v, ok := m[k]; ok {
				meta[k] = v
			}
		}
		if a, ok := m["annotations"].(map[string]any); ok {
			if v, ok := a[OperationAnnotation]; ok {
				meta["annotations"] = map[string]any{OperationAnnotation: v}
			}
		}
	}
	out := map[string]any{"apiVersion": u.Object["apiVersion"], "kind": u.Object["kind"], "metadata": meta}
	spec := map[string]any{}
	for _, k := range []string{"extensions", "maintenance"} {
		if v, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "spec", k); ok {
			spec[k] = v
		}
	}
	out["spec"] = spec
	if s, ok, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "lastOperation", "state"); ok {
		out["status"] = map[string]any{"lastOperation": map[string]any{"state": s}}
	}
	u.Object = out
	return u, nil
}
