// Package rulesource reconciles RuleSource objects: once per jittered
// interval it resolves the followed tag of a rules repository to a digest
// with one HEAD request; a new digest is verified (cosign signature with the
// key from a Secret, and the signed payload's digest claim) before it is
// listed in status.versions with its version and engine requirement. Digests
// that fail are recorded in status.rejected and never listed. A registry
// outage keeps the last good status and retries with a backoff capped at
// the interval.
package rulesource
