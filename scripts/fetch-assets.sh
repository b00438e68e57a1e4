#!/usr/bin/env bash
# Where the model and sample media come from. Inside the project's workspace they are read from
# ../shared (never copied into the repo). A user machine without it gets:
#   - vtest.avi and messi5.jpg from Debian's opencv-doc package,
#   - dog.jpg and yolox_nano.onnx (raw outputs, decoded on the host) from the YOLOX project,
# into .cache/assets/{media,models}. Set SIE_SHARED_DIR to use another folder.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${SIE_SHARED_DIR:-$(cd .. && pwd)/shared}"
if [ -f "$shared/models/yolox_nano_coco.onnx" ] && [ -f "$shared/media/vtest.avi" ]; then
  echo "[assets] using $shared"
  exit 0
fi
cache=.cache/assets
mkdir -p "$cache/media" "$cache/models"
if [ ! -f "$cache/media/vtest.avi" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download opencv-doc >/dev/null && dpkg -x opencv-doc_*.deb x)
  cp "$tmp/x/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$tmp/x/usr/share/doc/opencv-doc/examples/data/messi5.jpg" "$cache/media/"
  rm -rf "$tmp"
fi
fetch() {
  if [ ! -f "$2" ]; then curl -fsSL --retry 3 -o "$2.part" "$1" && mv "$2.part" "$2"; fi
}
fetch https://raw.githubusercontent.com/Megvii-BaseDetection/YOLOX/main/assets/dog.jpg "$cache/media/dog.jpg"
fetch https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx "$cache/models/yolox_nano.onnx"
echo "[assets] fetched into $cache"
