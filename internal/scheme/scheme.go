package scheme

import (
	gardencorev1beta1 "github.com/gardener/gardener/pkg/apis/core/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	profilev1alpha1 "github.com/falcops/falcops/api/profile/v1alpha1"
	falcopsv1alpha1 "github.com/falcops/falcops/api/v1alpha1"
)

// New returns a scheme with every typed kind falcops uses.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, profilev1alpha1.AddToScheme, falcopsv1alpha1.AddToScheme, addProjects,
	} {
		if err := add(s); err != nil {
			panic(err) // only on conflicting registrations: a programming error
		}
	}
	return s
}

// addProjects registers Gardener's Project only: the admission webhooks
// read a shoot's Project (its opt-out of global default destinations).
// Shoots stay unstructured (see shoot/), so Gardener's other kinds are
// left out.
func addProjects(s *runtime.Scheme) error {
	s.AddKnownTypes(gardencorev1beta1.SchemeGroupVersion, &gardencorev1beta1.Project{}, &gardencorev1beta1.ProjectList{})
	metav1.AddToGroupVersion(s, gardencorev1beta1.SchemeGroupVersion)
	return nil
}
