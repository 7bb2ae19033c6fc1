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
  grep -o '^GK_KERNEL(TRANSFORM, [A-Z0-9]*, [0-9]*' "$1/generated/gk_registry.inc" |
    sed 's/GK_KERNEL(TRANSFORM, //; s/,//'
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

# Adding a shape adds kernel files and touches no existing kernel's file:
# only the lists (registry, CMake sources) change.
python3 "$src/codegen/gen.py" --out "$work/before" 2>/dev/null
python3 "$src/codegen/gen.py" --shapes "$src/codegen/shapes.toml" --shapes "$shapes" \
  --out "$work/after" 2>/dev/null
changed=$( (diff -rq "$work/before" "$work/after" || true) | grep -v '^Only in' |
  sed 's/^Files \([^ ]*\) and .*/\1/; s|.*/before/||' | sort | tr '\n' ' ')
[ "$changed" = "gk_registry.inc sources.cmake " ] ||
  { echo "adding a shape changed existing files: $changed"; exit 1; }
added=$( (diff -rq "$work/before" "$work/after" || true) | grep -c "^Only in $work/after" || true)
[ "$added" -gt 0 ] || { echo "adding a shape added no file"; exit 1; }
echo "adding a shape: $added new files, existing files untouched but the lists ($changed)"
