// Command falcops-agent runs in each Falco pod. `falcops-agent install`
// (the init container) installs the pinned rulesets of the mounted falcoctl
// configuration with falcoctl, checks them against the layers by digest and
// swaps them into the rules directory Falco loads; `falcops-agent watch`
// (beside Falco) does the same whenever the mount changes, keeping the
// running set when a change cannot be verified, and serves /healthz,
// /readyz and /metrics.
package main
