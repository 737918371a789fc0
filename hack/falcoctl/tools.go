//go:build tools

// Package tools pins the falcoctl release that falcops' end-to-end tests use
// as an external client. hack/tools.sh builds it with
// `go build -o BIN/falcoctl github.com/falcosecurity/falcoctl` from this
// directory; falcoctl v0.13.0 cannot be `go install`ed directly because its
// go.mod has a replace directive.
//
// To move to another falcoctl release: in this directory run
// `go get github.com/falcosecurity/falcoctl@VERSION && go mod tidy`, change the
// falcoctl entry in hack/tools.sh to the same VERSION, and commit go.mod and
// go.sum (tools.sh refuses to build when the two disagree).
package tools

import _ "github.com/falcosecurity/falcoctl"
