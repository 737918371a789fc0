// Command falcops-controller keeps every Gardener shoot with the Falco
// extension on the Falco version its profile's lifecycle rules choose and on
// verified, digest-pinned rulesets, rolled out inside maintenance windows and
// in waves. It wires three controllers into one manager: rulesource
// (RuleSources), maintenance (Shoots) and rolloutpolicy (RolloutPolicies).
// See docs/operators.md.
package main
