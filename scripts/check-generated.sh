#!/usr/bin/env bash
# Fails when packages/contracts/src/gen differs from what scripts/gen-proto.sh makes of proto/:
# generated code is never edited by hand and never left stale.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$(find packages/contracts/src/gen -type f -exec sha256sum {} + | sort)
bash scripts/gen-proto.sh
after=$(find packages/contracts/src/gen -type f -exec sha256sum {} + | sort)
if [ "$before" != "$after" ]; then
  echo "generated contracts are stale: run 'pnpm gen:proto' and commit the result" >&2
  exit 1
fi
echo "[check] generated contracts are up to date"
