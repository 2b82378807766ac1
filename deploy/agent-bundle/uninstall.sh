#!/bin/sh
# Removes the Palisade agent installed by install.sh: stops and removes the systemd unit, then
# the install prefix (the folder this script is in).
#   PREFIX/uninstall.sh [--purge]
# --purge also deletes the data directory (identity, spool, module state): the host must then
# be activated again. Without it the data directory stays, so a reinstall keeps its identity.
set -eu

die() {
  echo "palisade uninstall: error: $*" >&2
  exit 1
}

purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  "") ;;
  -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
  *) die "unknown argument $1 (see --help)" ;;
esac

PREFIX=$(cd "$(dirname "$0")" && pwd)
record="$PREFIX/.palisade-install"
# Never delete a folder this installer did not make.
[ -f "$record" ] && [ -f "$PREFIX/lib/palisade.mjs" ] || die "$PREFIX holds no Palisade install (no .palisade-install)"
data_dir=$(sed -n 's/^data_dir=//p' "$record")
unit=$(sed -n 's/^unit=//p' "$record")

if [ -n "$unit" ]; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now palisade-agent 2>/dev/null || true
  fi
  rm -f "$unit"
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
if [ "$purge" = 1 ] && [ -n "$data_dir" ] && [ "$data_dir" != / ]; then
  rm -rf "$data_dir"
fi
rm -rf "$PREFIX"
echo "palisade uninstall: removed $PREFIX${unit:+ and $unit}$([ "$purge" = 1 ] && echo " and $data_dir")"
