// Package lifecycle reads Falco profiles (FalcoProfile documents,
// falco.gardener.cloud/v1alpha1) and answers the questions the lifecycle
// rules ask of them: which Falco versions exist, how each is classified,
// whether it has expired at a given time, which image runs it and which
// Falco engine version it has.
//
// Loading is strict where Gardener is lenient: unknown fields, unparseable
// expiration dates, unknown classifications and non-semver versions are
// errors that name file:line:col, never silently ignored. Time is always
// passed in (no clock is read here), so expiry is testable.
//
// Promote, Deprecate and Add edit a profile file under the same rules
// (edit.go; PreviewPromote and friends compute the change without writing
// it). They change only the bytes they must, through a format-preserving
// YAML splicer (yamledit.go) that knows nothing of Falco.
package lifecycle
