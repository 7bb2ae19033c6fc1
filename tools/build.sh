#!/usr/bin/env bash
# Configure and build graphkern in build/ (Release, warnings as errors).
# Usage: tools/build.sh [extra cmake args ...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGRAPHKERN_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
