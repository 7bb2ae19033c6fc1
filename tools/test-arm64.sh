#!/usr/bin/env bash
# The AArch64 build and its tests under qemu-user, from an x86-64 Debian:
# Debian's cross compiler and the arm64 multiarch BLIS and jansson
# (cmake/aarch64-linux-gnu.cmake), then CTest with every test executable run
# through qemu-aarch64. Usage: tools/test-arm64.sh [ctest args ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "graphkern: adding the arm64 architecture to dpkg" >&2
  $SUDO dpkg --add-architecture arm64  # deps.sh's apt-get update then sees it
fi
tools/deps.sh gcc-aarch64-linux-gnu qemu-user libc6:arm64 libblis-serial-dev:arm64 \
  libjansson-dev:arm64
cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DGRAPHKERN_WERROR=ON -DGRAPHKERN_PYTHON=OFF >/dev/null
cmake --build build-arm64 -j"$(nproc)"
ctest --test-dir build-arm64 --output-on-failure -j"$(nproc)" "$@"
