#!/usr/bin/env bash
# Prints the folder of a node_modules that holds FlowFuse's Dashboard 2
# (@flowfuse/node-red-dashboard) for the demo's /dashboard page, installed once from the npm
# registry into a cache folder beside fetch-node.sh's: /var/cache/pandora-sync-dashboard when
# writable, else ~/.cache/pandora-sync-dashboard (PANDORA_SYNC_DASHBOARD_CACHE overrides).
# The package itself never depends on the dashboard: only the demo and its browser test use it.
#   scripts/fetch-dashboard.sh            (the version below)   scripts/fetch-dashboard.sh 1.31.0
set -euo pipefail
# 1.31.0 declares node-red >=3.0.0 and runs on Node-RED 4 (Node 20) and 5 (Node 24) alike.
version=${1:-1.31.0}
cache=${PANDORA_SYNC_DASHBOARD_CACHE:-}
if [ -z "$cache" ]; then
  cache=/var/cache/pandora-sync-dashboard
  mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache="${XDG_CACHE_HOME:-$HOME/.cache}/pandora-sync-dashboard"
fi
mkdir -p "$cache"
dir="$cache/dashboard-$version"
if [ ! -f "$dir/node_modules/@flowfuse/node-red-dashboard/package.json" ]; then
  echo "fetch-dashboard: installing @flowfuse/node-red-dashboard@$version from the npm registry into $cache" >&2
  tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo '{"name":"pandora-sync-demo-dashboard","private":true}' >"$tmp/package.json"
  (cd "$tmp" && npm install --silent --no-audit --no-fund --omit=dev --ignore-scripts \
    "@flowfuse/node-red-dashboard@$version" >/dev/null)
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
fi
echo "$dir/node_modules"
