#!/usr/bin/env bash
# vendor-upstream.sh DIR: vendors, with `falcops vendor` (verified keylessly
# against the public Sigstore trusted root, through TUF: online), the upstream
# rulesets this repository's tuning rulesets depend on into DIR, one folder
# per major line, and prints DIR, the value for FALCOPS_RULESETS_PATH. For CI
# runners: this repository does not vendor upstream's rules itself.
set -euo pipefail
dir=${1:?usage: vendor-upstream.sh DIR}
falcops=${FALCOPS:-falcops}
for r in falco-rules:4.0.0 falco-rules:5.1.0 falco-incubating-rules:5.0.1 falco-incubating-rules:6.0.1 falco-sandbox-rules:5.0.1 falco-sandbox-rules:6.1.0; do
  name=${r%%:*} version=${r#*:}
  "$falcops" vendor "$name" "$version" --trusted-root-tuf --out "$dir/$name-${version%%.*}" >&2
done
echo "$dir"
