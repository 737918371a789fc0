// Package artifacts builds falcoctl artifacts from rulesets and reads them back.
//
// Package turns a ruleset folder into a rulesfile artifact (config, one tar.gz
// layer, OCI image manifest) that is byte-for-byte reproducible: the same
// files give the same digests, in any process, on any day. PackageAsset does
// the same for falcoctl "asset" artifacts (the profile). WriteLayout stores an
// artifact as an OCI image layout; Extract unpacks a layer with limits and
// refuses paths that would leave the destination.
//
// Index reads, merges and writes falcoctl's index.yaml; Tags computes the OCI
// tags a release moves, the way falcosecurity/rules does.
package artifacts
