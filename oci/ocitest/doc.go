// Package ocitest runs the one OCI registry of falcops' tests: olareg in
// memory on 127.0.0.1, the same registry `falcops registry serve` embeds,
// with request counters and a stop/start switch for outage tests. Like
// net/http/httptest it does not import the package it serves (oci), so that
// oci's own tests can use it too. Import it from _test.go files only.
package ocitest
