package v1alpha1

// SecretLabel marks the Secrets of the controller's namespace that the
// controller may read (RuleSource keys and registry credentials). It
// caches and reads no other Secret; RBAC cannot select by label, so the
// namespaced Role is the permission boundary and this label the read one.
const SecretLabel = "falcops.dev/secret"
