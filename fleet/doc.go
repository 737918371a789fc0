// Package fleet sums up a landscape from its listed objects: shoots per
// Falco version (with the profiles' classification and expiry) and per
// ruleset version, rollout progress per wave, the shoots that wait or are
// blocked grouped by reason, and the rule sources with their latest
// verified version and any rejected digest. It is pure: `falcops fleet`
// feeds it API lists, the dashboard the controller's cache.
package fleet
