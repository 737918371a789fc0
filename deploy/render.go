package deploy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	configv1alpha1 "github.com/falcops/falcops/api/config/v1alpha1"
)

// ErrInputs means the inputs cannot be rendered; the text says which.
var ErrInputs = errors.New("cannot render")

// Labels of every rendered object and the DaemonSet's selector.
var selector = map[string]string{"app.kubernetes.io/name": "falco", "app.kubernetes.io/instance": "falco"}

// Render returns the objects for the shoot's kube-system, sorted by kind
// and name. Rulesets without a pin (Missing) get no rules yet.
func Render(in Inputs) ([]runtime.Object, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	resources, err := Resources(in.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInputs, err)
	}
	falcoYAMLBytes, err := falcoYAML(in)
	if err != nil {
		return nil, err
	}
	objs := []runtime.Object{
		&corev1.ConfigMap{TypeMeta: typeMeta("ConfigMap"), ObjectMeta: meta("falco"), Data: map[string]string{"falco.yaml": string(falcoYAMLBytes)}},
	}
	var rules corev1.VolumeSource
	if in.Operator.Rules.Delivery == configv1alpha1.DeliveryInline {
		cms, proj, err := inlineConfigMaps(in)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInputs, err)
		}
		for _, cm := range cms {
			objs = append(objs, cm)
		}
		rules.Projected = &corev1.ProjectedVolumeSource{Sources: proj, DefaultMode: ptr(int32(0o444))}
	} else {
		s, err := falcoctlSecret(in)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInputs, err)
		}
		objs = append(objs, s)
		rules.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if cm := customConfigMap(in); cm != nil {
		objs = append(objs, cm)
	}
	if sidekickOn(in) {
		more, err := sidekickObjects(in)
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
	}
	objs = append(objs, daemonSet(in, resources, rules))
	slices.SortFunc(objs, func(a, b runtime.Object) int {
		ka, kb := a.GetObjectKind().GroupVersionKind().Kind, b.GetObjectKind().GroupVersionKind().Kind
		return cmp.Or(cmp.Compare(ka, kb), cmp.Compare(name(a), name(b)))
	})
	return objs, nil
}

func check(in Inputs) error {
	switch {
	case in.Config == nil || in.Operator == nil:
		return fmt.Errorf("%w: no FalcoServiceConfig or operator configuration", ErrInputs)
	case in.Config.FalcoVersion == nil:
		return fmt.Errorf("%w: falcoVersion is nil (default the config first)", ErrInputs)
	case in.FalcoImage == "":
		return fmt.Errorf("%w: the profile has no image for Falco %s", ErrInputs, *in.Config.FalcoVersion)
	}
	return nil
}

func name(o runtime.Object) string {
	if m, ok := o.(metav1.Object); ok {
		return m.GetName()
	}
	return ""
}

func typeMeta(kind string) metav1.TypeMeta {
	gv := schema.GroupVersion{Version: "v1"}
	if kind == "DaemonSet" || kind == "Deployment" {
		gv.Group = "apps"
	}
	return metav1.TypeMeta{APIVersion: gv.String(), Kind: kind}
}

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: clone(selector)}
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func ptr[T any](v T) *T { return &v }
