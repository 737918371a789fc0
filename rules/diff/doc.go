// Package diff compares two loaded rulesets entity by entity (requirements,
// plugins, lists, macros, rules) and classifies every change as a patch,
// minor or major version bump, with a reason and its position in the file.
//
// Conditions are compared as normalised, macro- and list-expanded trees, so
// a refactor is no change, and a changed condition is decided to be
// narrower, wider or undecidable by a sound (incomplete) implication check.
// The policy is falcosecurity/rules RELEASE.md with upstream practice for
// requirements (raising an engine or plugin requirement is major); see
// bumps.go for every decision and why.
package diff
