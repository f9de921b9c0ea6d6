#!/usr/bin/env bash
# Installs the real Salesforce client libraries the compatibility tests drive, pinned, outside
# the repository: simple-salesforce in a Python virtual environment, jsforce from npm.
# Usage: install.sh DIR   (idempotent; prints nothing when already installed)
set -euo pipefail
dir="${1:-${RAPPORT_CLIENTS_DIR:-$HOME/.cache/rapport-clients}}"
simple_salesforce="1.12.10"
jsforce="3.10.16"
mkdir -p "$dir"
if [ ! -x "$dir/venv/bin/python" ] || ! "$dir/venv/bin/python" -c "import simple_salesforce, sys; sys.exit(simple_salesforce.__version__ != '$simple_salesforce')" 2>/dev/null; then
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "simple-salesforce==$simple_salesforce"
fi
if [ ! -f "$dir/node/node_modules/jsforce/package.json" ] || ! grep -q "\"version\": \"$jsforce\"" "$dir/node/node_modules/jsforce/package.json"; then
  mkdir -p "$dir/node"
  (cd "$dir/node" && npm install --silent --no-audit --no-fund "jsforce@$jsforce" >/dev/null)
fi
