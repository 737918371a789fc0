// Package publish is the one release of falcops: validate every ruleset
// first (any error publishes nothing), package each reproducibly, push it
// under its version and the floating tags, sign the digest, and merge the
// falcoctl index. Profiles (profiles/) are released the same way as the
// falco-profiles asset artifact. Re-publishing unchanged content is a no-op
// that still signs a digest left unsigned. The CLI (`falcops publish`,
// `package`, `index`, `run`) and the tests call it; it prints nothing.
package publish
