// Package v1alpha1 is the operator configuration of falcops' seed side
// (group config.falcops.io, kind Configuration): one typed, versioned,
// documented file that falcops-extension reads with --config and, later,
// the admission webhooks. It says which images run in the shoot, where the
// signed rulesets live and with which key they are verified, how rules
// reach Falco (falcoctl in the shoot, or inline ConfigMaps), and which
// rulesets each standard selection implies, so the garden controller pins
// them too.
//
// Decode reads it strictly (unknown fields are errors naming the field);
// Default fills what an operator leaves out; Validate names the first
// field that is wrong.
//
// +kubebuilder:object:generate=true
package v1alpha1
