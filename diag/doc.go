// Package diag is the one positioned finding type of falcops: every loader
// (rules, ruleset manifests, rule tests, profiles) reports what is wrong as
// Findings, and every renderer (text, JSON, GitHub annotations, SARIF) reads
// only Findings. It is a leaf: it imports the standard library and the YAML
// decoder whose error texts it reads.
package diag
