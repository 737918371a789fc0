#!/usr/bin/env bash
# envtest-assets.sh: builds kube-apiserver, etcd and kubectl for envtest from Go modules
# (no setup-envtest download) into ${FALCOPS_CACHE:-$HOME/.cache/falcops}/envtest/k8s-VERSION
# and prints that directory, the value for KUBEBUILDER_ASSETS, as its only stdout line.
#
#   export KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh)"
#
# kubernetes' go.mod replaces its staging modules (k8s.io/api, ...) with ./staging
# paths, so `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.37.2` is refused.
# A throwaway builder module requires k8s.io/kubernetes and maps each staging
# module to its published v0.MINOR.PATCH; etcd is built in the same module at the
# version kubernetes pins, sharing the build cache.
#
# Cold: ~5-8 min on 2 cores (~500 CPU-s, 2.4 GiB peak while linking); warm: 0.1 s.
# Environment: ENVTEST_K8S_VERSION (default 1.37.2), FALCOPS_CACHE, FALCOPS_NICE.
set -euo pipefail

say() { printf 'envtest-assets: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 2; }

command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || fail "go not found in PATH or /usr/local/go/bin"

version="${ENVTEST_K8S_VERSION:-1.37.2}"
version="${version#v}"
[[ "$version" =~ ^1\.([0-9]+)\.([0-9]+)$ ]] || fail "ENVTEST_K8S_VERSION must look like 1.37.2, got '$version'"
minor="${BASH_REMATCH[1]}"
staging="v0.${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"

root="${FALCOPS_CACHE:-$HOME/.cache/falcops}/envtest"
out="$root/k8s-$version-$(go env GOOS)-$(go env GOARCH)"
work="$root/.build-$version"

# The caller's module settings (a go.work, GOFLAGS=-mod=vendor) must not leak
# into the builder module.
export GOWORK=off GOFLAGS=-buildvcs=false GO111MODULE=on CGO_ENABLED=0 LC_ALL=C

present() {
  [[ -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kubectl" ]] &&
    [[ "$("$out/kube-apiserver" --version 2>/dev/null)" == "Kubernetes v$version" ]] &&
    "$out/etcd" --version >/dev/null 2>&1 &&
    "$out/kubectl" version --client >/dev/null 2>&1
}

if present; then echo "$out"; exit 0; fi

mkdir -p "$work"
# Serialise concurrent runs (two test binaries, make -j) when flock exists.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.lock"
  flock 9
fi
if present; then echo "$out"; exit 0; fi   # a concurrent run built it

start=$SECONDS
cd "$work"
rm -f go.mod go.sum
info="$(go mod download -json "k8s.io/kubernetes@v$version")" || fail "cannot download k8s.io/kubernetes@v$version: $info"
kmod="$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p' <<<"$info")"
[[ -f "$kmod" ]] || fail "no go.mod for k8s.io/kubernetes@v$version"

# Staging modules: replaced with ./staging/... and required at v0.0.0. The sample
# modules are replaced but not required (and not published for every release).
modules="$(comm -12 \
  <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$kmod" | sort -u) \
  <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) v0\.0\.0$#\1#p' "$kmod" | sort -u))"
[[ -n "$modules" ]] || fail "no staging modules found in $kmod"

{
  echo "module falcops-envtest-builder"
  echo
  echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$kmod" | head -1)"
  grep '^godebug ' "$kmod" || true
  echo
  echo "require k8s.io/kubernetes v$version"
  echo
  echo "replace ("
  for m in $modules; do printf '\t%s => %s %s\n' "$m" "$m" "$staging"; done
  echo ")"
  echo
  echo "tool ("
  printf '\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kubectl\n\tgo.etcd.io/etcd/server/v3\n'
  echo ")"
} >go.mod
say "resolving modules for Kubernetes v$version"
go mod tidy 2> >(grep -v '^go: downloading' >&2)

ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=v$version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done
mkdir -p bin
say "building kube-apiserver v$version (cold: 5-8 minutes on 2 cores)"
nice -n "${FALCOPS_NICE:-10}" go build -trimpath -ldflags "$ldflags" -o bin/kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
# kubectl runs the operator guide's commands against envtest (docs test).
say "building kubectl v$version"
nice -n "${FALCOPS_NICE:-10}" go build -trimpath -ldflags "$ldflags" -o bin/kubectl k8s.io/kubernetes/cmd/kubectl
say "building etcd $(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
nice -n "${FALCOPS_NICE:-10}" go build -trimpath -ldflags "-s -w" -o bin/etcd go.etcd.io/etcd/server/v3

[[ "$(bin/kube-apiserver --version)" == "Kubernetes v$version" ]] || fail "kube-apiserver reports $(bin/kube-apiserver --version)"
mkdir -p "$out"
for b in kube-apiserver etcd kubectl; do
  cp "bin/$b" "$out/.$b.$$"
  mv -f "$out/.$b.$$" "$out/$b"
done
say "built in $((SECONDS - start)) s"
echo "$out"
