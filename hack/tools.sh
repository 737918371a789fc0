#!/usr/bin/env bash
# tools.sh TOOL...: installs pinned tools from the Go module proxy into
# ${FALCOPS_CACHE:-$HOME/.cache/falcops}/bin, once per version: a stamp file
# .TOOL-VERSION next to the binary makes a rerun instant.
#
# Tools: golangci-lint, falcoctl, cosign, oras, crane, actionlint, controller-gen. falcoctl is built from
# the wrapper module in hack/falcoctl (its go.mod pins the version; falcoctl
# v0.13.0 cannot be `go install`ed because its go.mod has a replace directive).
#
# Builds run under `nice -n ${FALCOPS_NICE:-10}` and are written to a temporary
# file first, so an interrupted build never leaves a binary with a stamp.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin="${FALCOPS_CACHE:-$HOME/.cache/falcops}/bin"
mkdir -p "$bin"

declare -A pkg=(
  [golangci-lint]=github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.11.4
  [falcoctl]=github.com/falcosecurity/falcoctl@v0.13.0
  [cosign]=github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5
  [oras]=oras.land/oras/cmd/oras@v1.3.6
  [crane]=github.com/google/go-containerregistry/cmd/crane@v0.22.1
  [actionlint]=github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
  [controller-gen]=sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0
)

[ $# -gt 0 ] || { echo "usage: hack/tools.sh TOOL... (one of: ${!pkg[*]})" >&2; exit 2; }

# Serialise concurrent runs (two test binaries, make -j) when flock exists.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$bin/.lock"
  flock 9
fi

# build_falcoctl VERSION OUT: builds falcoctl from the wrapper module.
build_falcoctl() {
  local version=$1 out=$2 pinned
  pinned=$(awk '$1 == "github.com/falcosecurity/falcoctl" {print $2} $1 == "require" && $2 == "github.com/falcosecurity/falcoctl" {print $3}' "$here/falcoctl/go.mod")
  if [ "$pinned" != "$version" ]; then
    echo "tools.sh: hack/falcoctl/go.mod pins falcoctl ${pinned:-nothing}, tools.sh expects $version; update both together" >&2
    return 2
  fi
  (cd "$here/falcoctl" && GOFLAGS="-mod=mod -buildvcs=false" nice -n "${FALCOPS_NICE:-10}" go build \
    -ldflags "-X github.com/falcosecurity/falcoctl/cmd/version.semVersion=${version#v}" \
    -o "$out" github.com/falcosecurity/falcoctl)
}

# build_go_install SPEC OUT: go install SPEC, then move the binary to OUT.
build_go_install() {
  local spec=$1 out=$2 gobin
  gobin=$(mktemp -d "$bin/.gobin.XXXXXX")
  if ! GOBIN="$gobin" GOFLAGS=-mod=mod nice -n "${FALCOPS_NICE:-10}" go install "$spec"; then
    rm -rf "$gobin"
    return 1
  fi
  mv "$gobin"/* "$out"
  rm -rf "$gobin"
}

for tool in "$@"; do
  spec=${pkg[$tool]:-}
  [ -n "$spec" ] || { echo "tools.sh: unknown tool $tool (known: ${!pkg[*]})" >&2; exit 2; }
  version=${spec##*@}
  stamp="$bin/.$tool-$version"
  if [ -x "$bin/$tool" ] && [ -f "$stamp" ]; then continue; fi
  echo "tools.sh: building $tool $version ($spec) into $bin" >&2
  start=$(date +%s)
  tmp="$bin/.$tool.tmp"
  rm -f "$tmp"
  case $tool in
    falcoctl) build_falcoctl "$version" "$tmp" ;;
    *) build_go_install "$spec" "$tmp" ;;
  esac
  mv -f "$tmp" "$bin/$tool"
  rm -f "$bin/.$tool-"*
  touch "$stamp"
  size=$(du -m "$bin/$tool" | cut -f1)
  echo "tools.sh: built $tool $version in $(($(date +%s) - start)) s (${size} MB)" >&2
done
