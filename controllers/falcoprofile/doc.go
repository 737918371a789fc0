// Package falcoprofile writes the status of FalcoProfiles: whether the
// merged profiles can be served (the Valid condition, with lifecycle's
// texts) and how many shoots run each Falco version a profile lists, so an
// operator sees before removing a version who still runs it.
package falcoprofile
