#!/usr/bin/env bash
# Configure and build graphkern in build/ (Release, warnings as errors).
# Usage: tools/build.sh [extra cmake args ...]
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's python3 (with python3-numpy and python3-jinja2 from tools/deps.sh)
# builds and tests the Python package, so its numpy tests run too; a python3
# earlier on PATH (pyenv, venv) may lack numpy.
py=()
[ -x /usr/bin/python3 ] && py=(-DPython3_EXECUTABLE=/usr/bin/python3)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGRAPHKERN_WERROR=ON "${py[@]}" "$@" >/dev/null
cmake --build build -j"$(nproc)"
