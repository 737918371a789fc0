#!/usr/bin/env bash
# sarif-schema.sh DIR: puts the SARIF 2.1.0 JSON schema into DIR/sarif-2.1.0.json
# for the SARIF output test. The schema ships in Microsoft's @microsoft/jest-sarif
# package on the npm registry; without npm the test skips.
set -euo pipefail
dir=$1
out="$dir/sarif-2.1.0.json"
[ -s "$out" ] && exit 0
command -v npm >/dev/null || { echo "sarif-schema.sh: npm not found; the SARIF schema test will skip" >&2; exit 0; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null 2>&1) || { echo "sarif-schema.sh: npm pack failed; the SARIF schema test will skip" >&2; exit 0; }
tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/schemas/sarif-2.1.0-rtm.5.json
mv "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$out"
