#!/usr/bin/env bash
# upstream-rulesets.sh: the newest final release of each major line of the
# upstream rulesets in ../shared/upstream-rules (test data, never copied into
# the repository), written as ruleset folders (ruleset.yaml + the file, as
# `falcops vendor` would) into ${FALCOPS_CACHE:-$HOME/.cache/falcops}/upstream-rulesets.
# Prints that directory, the value for FALCOPS_RULESETS_PATH, on stdout; prints
# nothing when ../shared is absent (the tuning rulesets then report their
# missing dependency).
#
#   export FALCOPS_RULESETS_PATH="$(hack/upstream-rulesets.sh)"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="${FALCOPS_UPSTREAM_RULES:-$here/../shared/upstream-rules}"
[ -d "$src" ] || { echo "upstream-rulesets: $src is absent: no upstream rulesets" >&2; exit 0; }
dest="${FALCOPS_CACHE:-$HOME/.cache/falcops}/upstream-rulesets"
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
for name in falco-rules falco-incubating-rules falco-sandbox-rules; do
  # final releases only (no -rc), newest first per major
  for v in $(ls "$src" | sed -n "s/^$name-\([0-9]*\.[0-9]*\.[0-9]*\)$/\1/p" | sort -rV); do
    major="${v%%.*}"
    dir="$tmp/$name-$major"
    [ -d "$dir" ] && continue
    file="$(cd "$src/$name-$v" && ls *.yaml | head -1)"
    mkdir -p "$dir"
    cp "$src/$name-$v/$file" "$dir/$file"
    printf 'name: %s\nversion: %s\ndescription: upstream %s %s, unchanged (test data from shared/upstream-rules)\nfiles: [%s]\n' \
      "$name" "$v" "$name" "$v" "$file" >"$dir/ruleset.yaml"
  done
done
rm -rf "$dest"
mv "$tmp" "$dest"
echo "$dest"
