#!/usr/bin/env bash
# cmake --install into a temporary prefix, move the prefix (every installed
# path must be relative), check the one-archive promise, then build
# downstream projects against it: find_package (C, and a -static C++
# program that defines BLIS's get_cpu_name and global_rntm) and pkg-config
# (C, and the same static C++ program).
set -euo pipefail
build=$1 src=$2 model=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "test_install: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$work/installed-here" >/dev/null
mv "$work/installed-here" "$work/moved-there"
prefix=$work/moved-there
lib=$prefix/lib/libgraphkern.a

# One archive of one object; its only global symbols are gk_*.
[ "$(ar t "$lib" | wc -l)" -eq 1 ] || fail "libgraphkern.a holds $(ar t "$lib" | wc -l) members"
# (nm's output in a variable: grep -q closing the pipe early is a failure
# under pipefail)
exported=$(nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}')
leaks=$(grep -v '^gk_' <<<"$exported" || true)
[ -z "$leaks" ] || fail "non-gk_ symbols exported: $(head -5 <<<"$leaks" | tr '\n' ' ')"
grep -qx 'gk_model_load_file' <<<"$exported" || fail "gk_model_load_file missing"
grep -rq "$work/installed-here" "$prefix/lib/cmake" "$prefix/lib/pkgconfig" &&
  fail "an installed file names the install prefix"

cmake -S "$src/tests/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer" "$model"
"$work/consumer/consumer_static" "$model" | grep -q "the application's own, global_rntm = 7" ||
  fail "static consumer did not run its own get_cpu_name/global_rntm"
[[ "$(readelf -d "$work/consumer/consumer_static")" == *"no dynamic section"* ]] || fail "consumer_static is not static"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -o "$work/consumer_pc" "$src/tests/consumer/main.c" $(pkg-config --cflags --libs --static graphkern)
"$work/consumer_pc" "$model"
c++ -static -o "$work/consumer_pc_static" "$src/tests/consumer/static_main.cpp" \
  $(pkg-config --cflags --libs --static graphkern)
"$work/consumer_pc_static" "$model"
echo "install: one archive, gk_* only; find_package and pkg-config consumers ran," \
     "static C++ consumer $(($(stat -c %s "$work/consumer/consumer_static") / 1024)) KiB" \
     "(C consumer $(($(stat -c %s "$work/consumer/consumer") / 1024)) KiB)"
