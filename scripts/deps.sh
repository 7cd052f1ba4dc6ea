#!/usr/bin/env bash
# Installs what keelson needs from Debian's packages, only when missing.
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh engine     also what the isolated test engine needs
set -euo pipefail

pkgs=(
  g++ meson ninja-build pkg-config python3
  libyaml-cpp-dev libcurl4-openssl-dev nlohmann-json3-dev libspdlog-dev
  libsqlite3-dev doctest-dev libcli11-dev libmicrohttpd-dev libgnutls28-dev libarchive-dev libssl-dev
  libgit2-dev git tzdata
  json-schema-test-suite sqlite3 diffutils zsh fish
)
if [[ "${1:-}" == engine ]]; then
  pkgs+=(docker.io docker-compose busybox-static docker-registry iproute2 openssl curl openssh-client openssh-server procps)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
