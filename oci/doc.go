// Package oci talks to OCI registries for falcops.
//
// Client (New) resolves tags to digests with one HEAD, lists tags, pushes
// falcoctl artifacts built by package artifacts and moves their tags; reads
// are bounded and checked against their digests. Publish releases a version
// with immutable X.Y.Z tags and the floating X.Y, X and latest tags of
// artifacts.Tags. Requests are retried on 429, 5xx and network errors with
// exponential backoff that honours Retry-After; credentials come from the
// Docker configuration and its credential helpers.
//
// Sign and Verify use the cosign library with legacy simple-signing
// signatures at sha256-<hex>.sig, the format falcoctl and the cosign CLI
// verify. Keys come from files, env://VAR or KMS URIs (providers compiled
// in with the build tag falcops_kms, otherwise sigstore-kms-* plugins);
// keyless signing takes an OIDC identity token (Fulcio and Rekor, online).
// Key-based verification is fully offline and, unlike falcoctl, requires
// the signed payload to claim the artifact's digest. Keyless verification
// is offline too: a certificate identity and issuer, checked against a
// Sigstore trusted_root.json with the Rekor bundle stored with the
// signature.
//
// NewRegistry and Serve embed an olareg registry (with the referrers API)
// for tests and `falcops registry serve`.
//
// Errors callers branch on are the sentinels ErrNotFound, ErrUnauthorized,
// ErrSignature and ErrImmutable (errors.Is).
package oci
