#!/usr/bin/env bash
# The openai Node.js client against `cellar serve` (ctest: server_openai_node_client).
#   run_test.sh <cellar binary> <shared dir>
# Installs the pinned client from package-lock.json (npm ci) when needed.
# Exit 77 (ctest: skipped) when ../shared or node is missing.
set -euo pipefail
binary="$1"
shared="${CELLAR_SHARED_DIR:-$2}"
model="$shared/models/stories260K.gguf"
if [ ! -f "$model" ]; then echo "skipped: needs ../shared (models/stories260K.gguf)"; exit 77; fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "skipped: node and npm are not installed"; exit 77
fi
cd "$(dirname "$0")"
if [ ! -f node_modules/openai/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node test.mjs "$binary" "$model"
