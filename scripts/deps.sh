#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages hallkeeper needs to build, run and test.
# Idempotent: does nothing when everything is installed; runs apt-get update only when a
# package is missing. Needs root or sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libhiredis-dev libmsgpack-dev
  libgpiod-dev libcmocka-dev libyaml-dev libsodium-dev libsystemd-dev libqrencode-dev
  libasound2-dev espeak-ng
  redis-server
  python3 python3-websockets python3-msgpack
)
# the browser tests need chromium and node; run.sh does not
if [ "${1:-}" = "--test" ]; then
  PACKAGES+=(chromium nodejs fonts-wqy-microhei openssl nut-server)   # nut-server: upsd + dummy-ups for test_ups
fi
# scripts/fuzz needs clang's libFuzzer
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES+=(clang)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
