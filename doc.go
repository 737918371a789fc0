// Package falcops is GitOps for Falco rules on many Kubernetes clusters:
// rules, exceptions and Falco profiles in Git, validated statically,
// released as signed falcoctl artifacts and rolled out to Gardener shoots.
// The code lives in the packages below (DESIGN.md, "Layout"); this package
// holds only the architecture test that keeps their import rules.
package falcops
