#!/usr/bin/env bash
# Refresh the vendored axe-core (the accessibility engine tests/test_browser_axe.py injects):
# fetch the npm package with npm's own client, keep only axe.min.js and its licence, and
# record the version and checksum. Tests never fetch it: no CDN, no network at test time.
# Usage: scripts/vendor-axe.sh [version]   (default: the newest 4.10.x)
set -euo pipefail

version="${1:-4.10}"
dest="tests/vendor/axe-core"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

command -v npm >/dev/null || { echo "vendor-axe: needs npm (apt-get install npm)" >&2; exit 1; }
tarball="$(cd "$work" && npm pack --silent "axe-core@$version")"
tar -xzf "$work/$tarball" -C "$work"
mkdir -p "$dest"
cp "$work/package/axe.min.js" "$work/package/LICENSE" "$dest/"
exact="$(node -p "require('$work/package/package.json').version")"
{
  echo "axe-core $exact"
  echo "from npm: $tarball"
  echo "sha256 $(sha256sum "$dest/axe.min.js" | cut -d' ' -f1)  axe.min.js"
} > "$dest/VERSION"
cat "$dest/VERSION"
