#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
tools/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
