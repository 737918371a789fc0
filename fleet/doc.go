// Package fleet sums up a landscape from its listed objects: shoots per
// Falco version and per ruleset version, rollout progress per wave, the
// shoots that wait or are blocked grouped by reason, the rule sources with
// their latest verified version and any rejected digest, and the profiles
// with the shoots per version. It is pure: `falcops fleet` feeds it API
// lists, the dashboard the controller's cache.
package fleet
