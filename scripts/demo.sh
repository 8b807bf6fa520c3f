#!/usr/bin/env bash
# The demo in one command: installs what is missing (Debian's mariadb-server, the npm packages),
# builds the package, and starts Node-RED on http://127.0.0.1:1880 with the demo flow deployed and a
# private MariaDB in .demo/. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/sbin/mariadbd ] && ! command -v mariadbd >/dev/null 2>&1; then
  echo "demo: installing Debian's mariadb-server (needed for the Command Center part of the demo)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
fi
if [ ! -d node_modules/node-red ]; then
  echo "demo: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "demo: building"
npm run --silent build
exec node scripts/demo.mjs "$@"
