#!/usr/bin/env bash
# The one script that generates TypeScript from proto/ into packages/contracts/src/gen.
# Generated files are never edited by hand; run `pnpm gen:proto` after changing a .proto file.
set -euo pipefail
cd "$(dirname "$0")/.."
out=packages/contracts/src/gen
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out"
protoc \
  --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,importSuffix=.js,forceLong=number,oneof=unions,useOptionals=messages,env=node,useDate=false \
  -I proto \
  $(find proto -name '*.proto' | sort)
