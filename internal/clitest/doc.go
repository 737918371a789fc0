// Package clitest drives the real falcoctl, cosign and oras binaries from Go
// tests, offline, against servers on 127.0.0.1.
//
// It is test support: import it only from _test.go files (the
// architecture test in the repository root checks that).
//
//   - [Tool] finds a binary built by `hack/tools.sh NAME` in the falcops tool
//     cache and skips the test when it is missing (fails instead when
//     FALCOPS_REQUIRE_TOOLS=1).
//   - [Run] runs a binary with a timeout, an isolated HOME and TMPDIR, and
//     HTTP_PROXY/HTTPS_PROXY pointed at a loopback port that drops every
//     connection (an egress guard), so any attempt to reach the internet
//     fails fast and is logged, while loopback stays reachable. [Command]
//     prepares a long-running process (falcoctl artifact follow) the same way.
//   - [Registry] serves an in-memory OCI registry (olareg, with the referrers
//     API) on 127.0.0.1.
//   - [TUFMirror] serves a minimal TUF repository whose only target is an empty
//     Sigstore trusted root. With its environment, plus
//     SIGSTORE_CT_LOG_PUBLIC_KEY_FILE and an index entry with
//     `signature: {cosign: {key: ..., ignore-tlog: true}}`, falcoctl v0.12+
//     verifies key-based cosign signatures without network access.
//   - [FalcoVersionsStub] answers like Falco's /versions endpoint, for
//     `falcoctl artifact follow`.
//   - [FalcoctlConfig] writes a falcoctl.yaml that knows only a local index.
//
// See shared/reference/falcoctl-artifacts.md, sections 7.6 to 10, for the
// behaviour these helpers are built around.
package clitest
