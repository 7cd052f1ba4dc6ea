#!/usr/bin/env bash
# Prints the path of Debian's kubectl (package kubernetes-client, 1.20),
# unpacked into a cache of keelson's own on first use, so that it never
# replaces a kubectl the machine already has on its PATH. The API tests
# drive this stock kubectl.
#
#   K=$(scripts/kubectl.sh); "$K" version --client
set -euo pipefail
cache=${KEELSON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keelson}/kubernetes-client
bin=$cache/usr/bin/kubectl
if [[ ! -x $bin ]]; then
  mkdir -p "$cache"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work"  # apt's download user writes here
  if ! (cd "$work" && apt-get download -q kubernetes-client >/dev/null 2>&1); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -q >/dev/null
    (cd "$work" && apt-get download -q kubernetes-client >/dev/null 2>&1)
  fi
  dpkg -x "$work"/kubernetes-client_*.deb "$cache"
fi
echo "$bin"
