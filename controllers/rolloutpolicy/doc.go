// Package rolloutpolicy reconciles the RolloutPolicy: it counts, per wave,
// the shoots whose decided target (rollout.Target) differs from what they
// run, opens the next wave when the open ones are done and the pause has
// passed, and halts the rollout when spec.paused is set or too many changed
// shoots fail.
package rolloutpolicy
