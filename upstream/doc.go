// Package upstream brings rulesets another publisher signs (falcosecurity's
// rules on ghcr.io) into a landscape, after checking who signed them.
// Vendor writes a verified artifact's files into a ruleset folder, byte for
// byte, with their provenance, so an upstream release becomes an ordinary
// pull request. Mirror copies verified artifacts with their digests, legacy
// signatures and bundles into a private registry and signs them with the
// landscape's key, so shoots trust one key.
package upstream
