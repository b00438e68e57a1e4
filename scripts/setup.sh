#!/usr/bin/env bash
# Installs what sie needs on a fresh Debian/Ubuntu machine that has Node.js >= 20: system packages
# (ffmpeg, nats-server, protoc, a C++ toolchain for one optional native module, GStreamer for the RTSP client tests, Chromium for the dashboard test), pnpm, the node modules, and the model and media assets.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v nats-server >/dev/null || missing+=(nats-server)
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v chromium >/dev/null || missing+=(chromium)
# A C++ toolchain builds the frame store's optional shared-memory mapping (@riaskov/mmap-io);
# without one the install still succeeds and the frame store uses pread/pwrite.
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
command -v gst-launch-1.0 >/dev/null || missing+=(gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] apt-get install ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v pnpm >/dev/null || { echo "[setup] npm i -g pnpm@12"; npm i -g pnpm@12 >/dev/null; }

# onnxruntime-node's install script only downloads the CUDA provider (unreachable without
# internet access to its host); the CPU runtime ships in the npm package itself.
export ONNXRUNTIME_NODE_INSTALL=skip
pnpm install --frozen-lockfile --reporter=silent

bash scripts/fetch-assets.sh
