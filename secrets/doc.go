// Package secrets makes and renews what falcosidekick and its clients
// need: the server and client certificate authorities and certificates of
// the mTLS link from Falco to falcosidekick, and the JWT the central
// destination presents. Everything takes the time as an argument (no
// clock is read here), so renewal is tested by moving a fake clock.
//
// Certificates use ECDSA P-256 (Gardener's extension uses RSA-4096: P-256
// is as strong for TLS and a thousand times faster to generate). Lifetimes
// default to Gardener's: CAs 2 years, certificates 180 days, both renewed
// 30 days before they expire. A renewed CA is kept in the trust bundles
// beside the old one until the old one expires, so certificates of either
// verify through the overlap.
package secrets
