#!/usr/bin/env bash
# tools.sh TOOL...: installs pinned tools from the Go module proxy into
# $HOME/.cache/falcops/bin, once per version.
set -euo pipefail
bin="${FALCOPS_CACHE:-$HOME/.cache/falcops}/bin"
mkdir -p "$bin"

declare -A pkg=(
  [golangci-lint]=github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.11.4
)

for tool in "$@"; do
  spec=${pkg[$tool]:-}
  [ -n "$spec" ] || { echo "tools.sh: unknown tool $tool" >&2; exit 2; }
  version=${spec##*@}
  stamp="$bin/.$tool-$version"
  if [ -x "$bin/$tool" ] && [ -f "$stamp" ]; then continue; fi
  echo "installing $spec into $bin" >&2
  GOBIN="$bin" GOFLAGS=-mod=mod go install "$spec"
  rm -f "$bin/.$tool-"*
  touch "$stamp"
done
