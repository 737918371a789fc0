package v1alpha1

// GroupName is the API group of FalcoServiceConfig.
const GroupName = "falco.extensions.gardener.cloud"

// Kind is the kind of a FalcoServiceConfig document.
const Kind = "FalcoServiceConfig"

// GroupVersion is an API group and version. It mirrors apimachinery's
// schema.GroupVersion (String gives the same apiVersion) so that this
// package stays free of apimachinery: FalcoServiceConfig is never
// registered in a runtime.Scheme.
//
// +kubebuilder:object:generate=false
type GroupVersion struct {
	Group   string
	Version string
}

// String returns the apiVersion, group/version.
func (gv GroupVersion) String() string {
	return gv.Group + "/" + gv.Version
}

// SchemeGroupVersion is the group and version of FalcoServiceConfig; its
// String is the apiVersion a providerConfig must carry.
var SchemeGroupVersion = GroupVersion{Group: GroupName, Version: "v1alpha1"}
