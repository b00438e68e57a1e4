#!/usr/bin/env bash
# The main job: installs what is missing, builds, brings the local stack up (embedded Postgres,
# NATS, RTSP server, every service), registers YOLOX-Nano, starts a run on the sample video and
# shows where its detections can be watched live. `pnpm stack:down` stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[demo] build"; pnpm run --silent build
echo "[demo] stack:up"; node deploy/local/dist/stack-up.js
echo "[demo] register the model and start run 'demo'"
node deploy/local/dist/demo.js
