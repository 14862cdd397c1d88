#!/usr/bin/env bash
# package.sh [--arch arm64] [--check]: builds the Debian package hallkeeper_VERSION_ARCH.deb into
# build-pkg/ (build-pkg-arm64/ for arm64) with debhelper from scripts/debian/, then runs lintian
# on it (any error fails). --check then installs it into a fresh Debian 12 root and starts it
# there as its unit would (tests/package/test_deb.py). Takes minutes: not part of ctest.
# Needs root or sudo for the packages it installs (debhelper, lintian; debootstrap for --check).
# arm64 is scripts/arm64.sh's business: it prepares the cross libraries and calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
arch="$(dpkg --print-architecture)"
check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --check) check=1; shift ;;
    *) echo "usage: scripts/package.sh [--arch ARCH] [--check]" >&2; exit 2 ;;
  esac
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=(debhelper lintian fakeroot)
[ "$check" = 1 ] && need+=(debootstrap python3-websockets python3-msgpack systemd)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# one version: the daemon's HK_VERSION is the package's, the changelog must say the same
version="$(sed -n 's/^#define HK_VERSION "\(.*\)"$/\1/p' io/daemon/daemon.h)"
logversion="$(dpkg-parsechangelog -l scripts/debian/changelog -S Version)"
if [ "$version" != "$logversion" ]; then
  echo "package: HK_VERSION is $version but scripts/debian/changelog says $logversion" >&2
  exit 1
fi

native="$(dpkg --print-architecture)"
out="$PWD/build-pkg"
[ "$arch" = "$native" ] || out="$PWD/build-pkg-$arch"
rm -rf "$out/src"
mkdir -p "$out/src"
# the tree as it is now (committed or not, without what git ignores), with debian/ added
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$out/src"
cp -r scripts/debian "$out/src/debian"
cp scripts/systemd/hallkeeper.service "$out/src/debian/hallkeeper.service"

flags=(-b -us -uc -j2)
if [ "$arch" != "$native" ]; then
  # cross: -d because libwebsockets-dev cannot be installed for two architectures at once
  # (scripts/arm64.sh puts its arm64 pkg-config file and library link on PKG_CONFIG_PATH)
  flags+=(-a"$arch" -d)
  export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
fi
start=$(date +%s)
echo "package: building for $arch in $out (log: $out/build.log)" >&2
if ! (cd "$out/src" && nice -n 10 dpkg-buildpackage "${flags[@]}") >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log" >&2
  echo "package: dpkg-buildpackage failed (log: $out/build.log)" >&2
  exit 1
fi
deb="$out/hallkeeper_${version}_${arch}.deb"
[ -f "$deb" ] || { echo "package: $deb was not built" >&2; exit 1; }
echo "package: built $deb in $(( $(date +%s) - start )) s" >&2

lintian --fail-on error --tag-display-limit 0 "$deb"
echo "package: lintian reports no error" >&2

if [ "$check" = 1 ]; then
  /usr/bin/python3 tests/package/test_deb.py "$deb"
fi
echo "$deb"
