// Package gate is the pull-request gate for rule maintainers: it reads the
// rulesets of a base Git revision (blobs only, no checkout, so a shallow CI
// clone that fetched the base is enough), compares each changed ruleset with
// the working tree through the semantic diff, and checks that the version in
// ruleset.yaml was bumped at least as much as the changes require.
package gate
