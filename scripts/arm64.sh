#!/usr/bin/env bash
# arm64.sh: proves hallkeeper on arm64 (a Raspberry Pi 4/5) from this x86-64 machine, in one run:
#   1. installs the cross compiler, qemu-user and the arm64 libraries (dpkg --add-architecture);
#   2. cross-builds into build-arm64/ and runs the unit tests under qemu-user (ctest);
#   3. starts the arm64 daemon under qemu-user: hello and a ticket's way (tests/package/test_smoke.py);
#   4. builds the arm64 package build-pkg-arm64/hallkeeper_VERSION_arm64.deb (scripts/package.sh).
# Takes about 10 minutes on 2 cores (docs/pi.md); not part of ctest. Needs root or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
T=aarch64-linux-gnu
t0=$(date +%s)
step() { echo "arm64: $* ($(( $(date +%s) - t0 )) s)" >&2; }

# 1. the tools and libraries. libwebsockets-dev cannot be installed for amd64 and arm64 at once
# (its lws_config.h differs in LWS_INSTALL_LIBDIR only, which hallkeeper does not use), so its
# arm64 pkg-config file and link are taken from the .deb into build-arm64/lws/.
LIBS=(libuv1-dev libwebsockets17 libwebsockets-evlib-uv libhiredis-dev libmsgpack-dev libgpiod-dev
      libcmocka-dev libyaml-dev libsodium-dev libsystemd-dev libqrencode-dev libasound2-dev libcap-dev
      pkgconf)
need=(crossbuild-essential-arm64 qemu-user-static libwebsockets-dev "${LIBS[@]/%/:arm64}")
dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
ovl="$PWD/build-arm64/lws"
if [ ! -f "$ovl/pkgconfig/libwebsockets.pc" ]; then
  rm -rf "$ovl" && mkdir -p "$ovl/pkgconfig" "$ovl/lib" "$ovl/deb"
  (cd "$ovl/deb" && apt-get download libwebsockets-dev:arm64 >/dev/null 2>&1 ||
     $SUDO apt-get download libwebsockets-dev:arm64)
  dpkg-deb -x "$ovl"/deb/libwebsockets-dev_*_arm64.deb "$ovl/deb/x"
  sed "s|^libdir=.*|libdir=$ovl/lib|" "$ovl/deb/x/usr/lib/$T/pkgconfig/libwebsockets.pc" >"$ovl/pkgconfig/libwebsockets.pc"
  ln -sf "/usr/lib/$T/libwebsockets.so.17" "$ovl/lib/libwebsockets.so"
fi
export PKG_CONFIG_PATH="$ovl/pkgconfig"

# 2. the cross build; ctest runs each unit test through qemu (CMAKE_CROSSCOMPILING_EMULATOR)
step "cross build into build-arm64/"
[ -f build-arm64/CMakeCache.txt ] || cmake -S . -B build-arm64 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 -DCMAKE_C_COMPILER=$T-gcc \
  -DPKG_CONFIG_EXECUTABLE=/usr/bin/$T-pkg-config -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/qemu-aarch64-static \
  >/dev/null
nice -n 10 cmake --build build-arm64 -j2 >build-arm64/build.log 2>&1 || { tail -30 build-arm64/build.log >&2; exit 1; }
file build-arm64/hallkeeper | grep -q "ARM aarch64" || { echo "arm64: build-arm64/hallkeeper is not arm64" >&2; exit 1; }
step "unit tests under qemu-aarch64"
(cd build-arm64 && HK_SRC="$PWD/.." nice -n 10 ctest -L unit --output-on-failure)

# 3. the daemon under qemu: a wrapper as HK_BIN (the libraries are the multiarch ones in /usr/lib/$T)
step "start-and-hello smoke test under qemu-aarch64"
cat >build-arm64/hallkeeper-qemu <<EOW
#!/bin/sh
exec /usr/bin/qemu-aarch64-static "$PWD/build-arm64/hallkeeper" "\$@"
EOW
chmod +x build-arm64/hallkeeper-qemu
HK_BIN="$PWD/build-arm64/hallkeeper-qemu" HK_SRC="$PWD" /usr/bin/python3 tests/package/test_smoke.py

# 4. the package, cross-built by debhelper
step "the arm64 package"
deb=$(./scripts/package.sh --arch arm64 | tail -1)
dpkg-deb -f "$deb" Architecture | grep -qx arm64
step "done: $deb"
