#!/usr/bin/env bash
# cmake --install into a temporary prefix, then build a downstream project
# against it twice: through find_package(graphkern) and through pkg-config.
set -euo pipefail
build=$1 src=$2 model=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$src/tests/consumer" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
"$prefix/consumer/consumer" "$model"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc -o "$prefix/consumer_pc" "$src/tests/consumer/main.c" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs --static graphkern)
"$prefix/consumer_pc" "$model"
echo "install: find_package and pkg-config consumers both ran"
