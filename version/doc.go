// Package version says what a falcops build is: its version and commit,
// the Go version, and what it understands (falcoctl media types, the range
// of Falco engine versions its rules checks know). Every binary prints it
// for `--version`.
package version
