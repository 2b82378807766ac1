#!/bin/sh
# Installs the Palisade agent bundle this script sits in (docs/deploy/agent-bundle.md).
#   ./install.sh [--prefix DIR] [--data-dir DIR] [--no-systemd]
# Environment: PALISADE_PREFIX (default /opt/palisade), PALISADE_DATA_DIR (default
# /var/lib/palisade-agent), PALISADE_SYSTEMD_DIR (default /etc/systemd/system),
# PALISADE_NO_SYSTEMD=1. Installing over an older version upgrades it in place and restarts a
# running service. Everything installed is listed in PREFIX/.palisade-install for uninstall.sh.
set -eu

PREFIX=${PALISADE_PREFIX:-/opt/palisade}
DATA_DIR=${PALISADE_DATA_DIR:-/var/lib/palisade-agent}
SYSTEMD_DIR=${PALISADE_SYSTEMD_DIR:-/etc/systemd/system}
NO_SYSTEMD=${PALISADE_NO_SYSTEMD:-0}

die() {
  echo "palisade install: error: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
    --data-dir) DATA_DIR=${2:?--data-dir needs a directory}; shift 2 ;;
    --no-systemd) NO_SYSTEMD=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

case "$PREFIX" in /*) ;; *) die "--prefix must be an absolute path, got $PREFIX" ;; esac
case "$DATA_DIR" in /*) ;; *) die "--data-dir must be an absolute path, got $DATA_DIR" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$here/lib/palisade.mjs" ] || die "$here is not an unpacked agent bundle (no lib/palisade.mjs)"
version=$(cat "$here/VERSION")

arch=$(uname -m)
[ "$arch" = x86_64 ] || die "this bundle is built for linux x86_64 (glibc); this machine is $arch"
node=${PALISADE_NODE:-node}
command -v "$node" >/dev/null 2>&1 || die "Node.js >= 20.19 is required on PATH (or PALISADE_NODE); none found"
if ! "$node" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  die "Node.js >= 20.19 is required; $(command -v "$node") is $("$node" --version)"
fi
# The native addons are the part that can fail on a foreign libc: load them before copying.
if ! "$node" -e 'const r = require("node:module").createRequire(process.argv[1]); r("better-sqlite3"); r("re2");' "$here/lib/palisade.mjs" 2>/tmp/palisade-install.$$; then
  reason=$(cat /tmp/palisade-install.$$); rm -f /tmp/palisade-install.$$
  die "the bundled native addons do not load on this machine: $reason"
fi
rm -f /tmp/palisade-install.$$

use_systemd=0
if [ "$NO_SYSTEMD" != 1 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  use_systemd=1
fi

if [ -e "$PREFIX" ] && [ ! -f "$PREFIX/.palisade-install" ] && [ -n "$(ls -A "$PREFIX" 2>/dev/null)" ]; then
  die "$PREFIX exists and was not made by this installer; choose another --prefix or empty it"
fi
mkdir -p "$PREFIX"
previous=$(cat "$PREFIX/VERSION" 2>/dev/null || true)

# Each part is copied next to its old version and swapped in, so a failed copy leaves the old one.
for part in bin lib share systemd; do
  rm -rf "$PREFIX/$part.new"
  cp -R "$here/$part" "$PREFIX/$part.new"
  rm -rf "$PREFIX/$part"
  mv "$PREFIX/$part.new" "$PREFIX/$part"
done
cp "$here/uninstall.sh" "$PREFIX/uninstall.sh"
chmod 0755 "$PREFIX/uninstall.sh" "$PREFIX/bin/palisade"
sed -e "s|/opt/palisade|$PREFIX|g" -e "s|/var/lib/palisade-agent|$DATA_DIR|g" "$here/systemd/palisade-agent.service" >"$PREFIX/systemd/palisade-agent.service"

unit=""
if [ "$use_systemd" = 1 ]; then
  unit="$SYSTEMD_DIR/palisade-agent.service"
  cp "$PREFIX/systemd/palisade-agent.service" "$unit"
  systemctl daemon-reload
fi
{
  echo "version=$version"
  echo "data_dir=$DATA_DIR"
  echo "unit=$unit"
} >"$PREFIX/.palisade-install"
# VERSION last: its presence means the install finished
echo "$version" >"$PREFIX/VERSION"

if [ "$use_systemd" = 1 ] && systemctl is-active --quiet palisade-agent; then
  systemctl restart palisade-agent
  echo "palisade install: upgraded ${previous:-?} -> $version in $PREFIX and restarted palisade-agent"
elif [ -n "$previous" ] && [ "$previous" != "$version" ]; then
  echo "palisade install: upgraded $previous -> $version in $PREFIX"
else
  echo "palisade install: installed $version in $PREFIX"
fi
