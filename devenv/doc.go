// Package devenv is `falcops dev`: a local garden on 127.0.0.1. It starts
// a garden, a seed and one shoot API server from the envtest binaries,
// fills the garden with sample projects, shoots, RuleSources and a
// RolloutPolicy, runs the real falcops-controller (with its webhooks and
// dashboard) and falcops-extension binaries as child processes, and plays
// the two Gardener parts they talk to: gardenlet (each shoot's Cluster and
// Extension objects in the seed) and gardener-resource-manager (the demo
// shoot's ManagedResource objects applied to the shoot API server).
// Everything lives in one state directory.
package devenv
