// Package maintenance keeps every shoot with the Falco extension on the
// Falco version the profile's lifecycle rules choose and on verified,
// digest-pinned rulesets compatible with that version's engine. It changes a
// shoot only inside its maintenance window (at once for the maintain
// operation or an expired or removed version), in the waves of the rollout
// policy, with an optimistic-lock patch, and records its state in a
// ShootRollout object beside the shoot. The decisions come from package
// rollout (rollout.Target, rollout.Admit); the scenarios in suite_test.go
// run all three controllers against envtest.
package maintenance
