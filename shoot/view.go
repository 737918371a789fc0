package shoot

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// View is what falcops reads from one shoot, read once.
type View struct {
	Namespace, Name string
	Labels          map[string]string
	// Enabled reports whether the shoot enables the Falco extension.
	Enabled bool
	// Falco is the extension's config; nil when the extension is off or
	// its providerConfig is invalid (Err says why).
	Falco *FalcoConfig
	// Err is the strict decoder's error for an invalid providerConfig.
	Err error
	// Window is spec.maintenance.timeWindow (both empty when absent).
	Window TimeWindow
	// Maintain reports the gardener.cloud/operation=maintain annotation.
	Maintain bool
	// LastOperationFailed reports status.lastOperation.state Failed or
	// Error.
	LastOperationFailed bool
}

// TimeWindow is a shoot's maintenance time window as written, such as
// 220000+0100 to 230000+0100.
type TimeWindow struct {
	Begin, End string
}

// Observe reads the shoot.
func Observe(u *unstructured.Unstructured) *View {
	f, enabled, err := FalcoOf(u)
	return &View{
		Namespace:           u.GetNamespace(),
		Name:                u.GetName(),
		Labels:              u.GetLabels(),
		Enabled:             enabled,
		Falco:               f,
		Err:                 err,
		Window:              timeWindow(u),
		Maintain:            maintainRequested(u),
		LastOperationFailed: lastOperationFailed(u),
	}
}

func timeWindow(u *unstructured.Unstructured) TimeWindow {
	begin, _, _ := unstructured.NestedString(u.Object, "spec", "maintenance", "timeWindow", "begin")
	end, _, _ := unstructured.NestedString(u.Object, "spec", "maintenance", "timeWindow", "end")
	return TimeWindow{Begin: begin, End: end}
}

func maintainRequested(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()[OperationAnnotation] == OperationMaintain
}

func lastOperationFailed(u *unstructured.Unstructured) bool {
	s, _, _ := unstructured.NestedString(u.Object, "status", "lastOperation", "state")
	return s == "Failed" || s == "Error"
}
