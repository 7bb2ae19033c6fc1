#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, run the main job on
# bundled data (the reference GAT on a 100-asset correlation graph).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
tools/build.sh
exec build/graphkern infer --model tests/fixtures/ref_topk10_n100.model.safetensors \
  --input tests/fixtures/ref_topk10_n100.io.safetensors "$@"
