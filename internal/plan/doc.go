// Package plan decides, as a pure function of the shoot, the profile, the
// verified RuleSources and the time, what a shoot should run: its Falco
// version and one verified digest per standard ruleset whose engine
// requirement that Falco satisfies. It also assigns shoots to rollout waves
// and names a rollout revision. The maintenance and rollout controllers
// share it, so both agree on what "up to date" means.
package plan
