#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan+UBSan) and run each for SECONDS.
#   tests/fuzz/run.sh SECONDS [TARGET ...]
# CI runs 20 s per target; a longer local run, e.g. an hour each:
#   tests/fuzz/run.sh 3600
# Corpora grow in build-fuzz/corpus/<target> (seeded from tests/fixtures by
# make_seeds.py, kept between runs); crashes land in build-fuzz/crashes/.
# A crash input, once fixed, goes to tests/fuzz/regressions/<target>/ so that
# the replay_<target> CTest keeps it fixed. Prints executions per target and
# exits non-zero if any target found a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET ...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
  targets=(fuzz_model_buffer fuzz_io_reader fuzz_graph_coo fuzz_metadata fuzz_corr
           fuzz_program)
build=build-fuzz
jobs=$(nproc); [ "$jobs" -gt 2 ] && jobs=2

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGRAPHKERN_WERROR=ON -DGRAPHKERN_FUZZ=ON >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >/dev/null
python3 tests/fuzz/make_seeds.py "$build/seeds" >/dev/null

status=0
summary=""
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  crashes=$build/crashes/$t/
  mkdir -p "$corpus" "$crashes" "$build/seeds/$t"
  log=$build/crashes/$t.log
  # seeds: the generated ones, the committed ones, past regressions
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=25 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -dict=tests/fuzz/graphkern.dict -artifact_prefix="$crashes" \
      "$corpus" "$build/seeds/$t" tests/fuzz/seeds/$t \
      tests/fuzz/regressions/$t >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  line=$(printf '%-18s %10s executions  %6s s  cov %5s  %s' "$t" "${execs:-?}" \
         "$seconds" "${cov:-?}" "$([ $rc -eq 0 ] && echo clean || echo "FAILED (rc $rc)")")
  echo "$line"
  summary+="$line"$'\n'
  if [ $rc -ne 0 ]; then
    status=1
    grep -E 'ERROR|property failed|runtime error|SUMMARY|Test unit written' "$log" | head -20
    echo "full log: $log"
  fi
done
echo "== fuzz summary =="
printf '%s' "$summary"
exit $status
