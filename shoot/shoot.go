package shoot

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	servicev1alpha1 "github.com/falcops/falcops/api/service/v1alpha1"
)

// GVK is the Gardener Shoot kind.
var GVK = schema.GroupVersionKind{Group: "core.gardener.cloud", Version: "v1beta1", Kind: "Shoot"}

// Annotations Gardener users set.
const (
	// OperationAnnotation with value OperationMaintain asks for maintenance
	// now, outside the window. Gardener's own maintenance controller
	// removes it; falcops leaves it alone.
	OperationAnnotation = "gardener.cloud/operation"
	OperationMaintain   = "maintain"
)

// DefaultStandardRules is what Gardener's mutator sets when rules is absent.
var DefaultStandardRules = []string{"falco-rules"}

// New returns an empty Shoot.
func New() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK)
	return u
}

// NewList returns an empty ShootList.
func NewList() *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(GVK.GroupVersion().WithKind("ShootList"))
	return l
}

// extension returns the index and map of the enabled Falco extension.
func extension(u *unstructured.Unstructured) (int, map[string]any, bool) {
	exts, _, _ := unstructured.NestedSlice(u.Object, "spec", "extensions")
	for i, e := range exts {
		m, ok := e.(map[string]any)
		if !ok || m["type"] != servicev1alpha1.Type {
			continue
		}
		if disabled, _ := m["disabled"].(bool); disabled {
			return 0, nil, false
		}
		return i, m, true
	}
	return 0, nil, false
}

// HasFalco reports whether the shoot enables the Falco extension.
func HasFalco(u *unstructured.Unstructured) bool {
	_, _, ok := extension(u)
	return ok
}
