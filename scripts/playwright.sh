#!/usr/bin/env bash
# Fetches playwright-core (npm; no browser download: it drives Debian's /usr/bin/chromium) into
# DIR/node_modules, for the explorer page's browser test (tests/explorer.js).
# usage: scripts/playwright.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/playwright-core" ]; then
  (cd "$dir" && npm install --no-save --no-audit --no-fund --silent playwright-core@1.49.1)
fi
NODE_PATH="$dir/node_modules" node -e "require('playwright-core')"
