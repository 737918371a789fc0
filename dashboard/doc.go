// Package dashboard is the controller's read-only fleet page: shoots per
// Falco version and per ruleset version as charts, rollout progress per
// wave with the pause timer, blocked and waiting shoots grouped by reason,
// the RuleSources with their latest verified version and rejected digest,
// and recent transitions. It is rendered on the server from fleet's
// summary of the controller's cache (a page view sends no API request)
// and kept live with server-sent events. Its only script is its own, so
// the page works without internet.
package dashboard
