#!/usr/bin/env bash
# chromium.sh: makes sure Debian's Chromium is installed for the dashboard's
# browser test (package chromium, /usr/bin/chromium) and prints its path.
# Installs it with apt-get when missing: as root, or through sudo -n.
# FALCOPS_CHROMIUM names another browser binary and skips the install.
set -euo pipefail
say() { printf 'chromium.sh: %s\n' "$*" >&2; }
if [[ -n "${FALCOPS_CHROMIUM:-}" ]]; then echo "$FALCOPS_CHROMIUM"; exit 0; fi
bin=/usr/bin/chromium
if [[ -x "$bin" ]]; then echo "$bin"; exit 0; fi
command -v apt-get >/dev/null 2>&1 || { say "no $bin and no apt-get: install Chromium and set FALCOPS_CHROMIUM"; exit 2; }
sudo=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || { say "no $bin; run as root or with sudo: apt-get install chromium"; exit 2; }
  sudo=(sudo -n)
fi
say "installing Debian's chromium (once, about a minute)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
[[ -x "$bin" ]] || { say "apt-get installed no $bin"; exit 2; }
echo "$bin"
