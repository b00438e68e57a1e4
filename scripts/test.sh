#!/usr/bin/env bash
# The test command: installs what is missing, builds, lints, checks formatting and generated code,
# then runs every test against real Postgres, nats-server, ffmpeg and the real ONNX model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] build"; pnpm run --silent build
echo "[test] lint"; pnpm run --silent lint
echo "[test] format"; pnpm run --silent format:check
bash scripts/check-generated.sh
echo "[test] tests"
node test/dist/run-tests.js "$@"
