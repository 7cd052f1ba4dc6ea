#!/usr/bin/env bash
# Prints a directory whose node_modules holds the official Kubernetes
# client library for JavaScript (@kubernetes/client-node, pinned), installed
# from npm into a cache of keelson's own on first use; Node.js and npm come
# from Debian's packages when the machine has none. The API tests drive this
# client library against keelson's API.
#
#   D=$(scripts/client-node.sh); NODE_PATH=$D/node_modules node script.js
set -euo pipefail
version=0.22.3
cache=${KEELSON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/keelson}/client-node-$version
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi
if [[ ! -f $cache/node_modules/@kubernetes/client-node/package.json ]]; then
  mkdir -p "$cache"
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error "@kubernetes/client-node@$version" >/dev/null)
fi
echo "$cache"
