#!/usr/bin/env bash
# -DGRAPHKERN_SHAPES=file replaces the default kernel set (a binary can ship
# only its own kernels); -DGRAPHKERN_SHAPES_ADD=ON adds to it. Configures the
# project twice in a temporary directory (codegen runs at configure time)
# and reads the generated registry.
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shapes=$src/tests/data/shapes_one.toml
transforms() {  # the registry's transform kernels, one "isa t_stride" per line
  grep -o '^GK_TRANSFORM([A-Z0-9]*, [0-9]*' "$1/generated/gk_registry.inc" |
    sed 's/GK_TRANSFORM(//; s/,//'
}
configure() {
  cmake -S "$src" -B "$work/$1" -DGRAPHKERN_BUILD_TESTS=OFF -DGRAPHKERN_PYTHON=OFF \
    -DGRAPHKERN_SHAPES="$shapes" "${@:2}" >"$work/$1.log" 2>&1 ||
    { cat "$work/$1.log"; exit 1; }
}
configure replace
got=$(transforms "$work/replace")
want=$'SCALAR 32\nSCALAR 96'
[ "$got" = "$want" ] || { echo "replace: expected only SCALAR 32 and 96, got: $got"; exit 1; }
configure add -DGRAPHKERN_SHAPES_ADD=ON
got=$(transforms "$work/add")
grep -qx 'SCALAR 96' <<<"$got" || { echo "add: SCALAR 96 missing"; exit 1; }
grep -qx 'AVX2 80' <<<"$got" || { echo "add: the default AVX2 80 missing"; exit 1; }
echo "GRAPHKERN_SHAPES: replaces ($(transforms "$work/replace" | wc -l) transform)," \
     "adds with GRAPHKERN_SHAPES_ADD ($(wc -l <<<"$got") transforms)"
