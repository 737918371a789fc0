#!/usr/bin/env bash
# gardener-crds.sh DIR: puts Gardener's own CRDs of Extension, Cluster,
# ManagedResource and the Prometheus operator's ScrapeConfig (gardener
# v1.149.3, example/seed-crds) into DIR for the extension's envtest tests. They come from the Go module proxy with the
# gardener module; falcops imports only its pkg/apis module.
set -euo pipefail
dir=$1
version=v1.149.3
files=(10-crd-extensions.gardener.cloud_extensions.yaml 10-crd-extensions.gardener.cloud_clusters.yaml 10-crd-resources.gardener.cloud_managedresources.yaml 10-crd-monitoring.coreos.com_scrapeconfigs.yaml)
ok=1
for f in "${files[@]}"; do [ -s "$dir/$f" ] || ok=0; done
[ "$ok" = 1 ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$(cd "$tmp" && go mod init crds >/dev/null 2>&1 && go mod download -json "github.com/gardener/gardener@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$src" ] || { echo "gardener-crds.sh: could not download github.com/gardener/gardener@$version" >&2; exit 2; }
mkdir -p "$dir"
for f in "${files[@]}"; do cp "$src/example/seed-crds/$f" "$dir/$f"; chmod 0644 "$dir/$f"; done
echo "gardener-crds.sh: Gardener $version CRDs in $dir" >&2
