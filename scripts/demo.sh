#!/usr/bin/env bash
# The demo in one command: installs what is missing (Debian's mariadb-server, the npm packages),
# builds the package, fetches the official Node.js 24 binary from the npm registry into a cache
# folder (scripts/fetch-node.sh), and starts Node-RED 5 on it on http://127.0.0.1:1880 with the
# demo flow deployed, the Command Center page at /dashboard (Dashboard 2, installed once into a
# cache folder by scripts/fetch-dashboard.sh, never a dependency of the package) and a private
# MariaDB in .demo/. DEMO_NODE_RED=4 runs Node-RED 4 on the system's Node.js instead. Ctrl-C
# stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/sbin/mariadbd ] && ! command -v mariadbd >/dev/null 2>&1; then
  echo "demo: installing Debian's mariadb-server (needed for the Command Center part of the demo)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
fi
if [ ! -d node_modules/node-red ] || [ ! -d node_modules/node-red-5 ]; then
  echo "demo: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "demo: building"
npm run --silent build
if [ "${DEMO_NODE_RED:-5}" = 4 ]; then
  exec node scripts/demo.mjs "$@"
fi
node24=$(scripts/fetch-node.sh 24)
echo "demo: Node.js $("$node24" --version) from $node24"
exec "$node24" scripts/demo.mjs "$@"
