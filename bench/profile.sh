#!/usr/bin/env bash
# Profile one bench scenario with the tools CI has, for both paths:
#   perf stat      hardware counters when this machine exposes them, software
#                  events (task-clock, page-faults, context-switches) when not
#                  — the output says which;
#   perf record    -e cpu-clock (works without hardware counters), top symbols;
#   callgrind      instructions per inference: Ir inside gk_infer for K1 and
#                  K2 runs, (Ir(K2) − Ir(K1)) / (K2 − K1), so setup and
#                  first-call effects cancel. Repeatable to the instruction.
# Builds nothing: uses build/graphkern (or $GRAPHKERN).
# Writes $PROFILE_OUT/<scenario>.callgrind.json (default build/profile) for
# bench/gate.sh.
#
# Usage: bench/profile.sh [scenario] [--runs N] [--no-perf] [--no-callgrind]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=dense100 runs=2000 do_perf=1 do_cg=1
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift ;;
    --no-perf) do_perf=0 ;;
    --no-callgrind) do_cg=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) scenario=$1 ;;
  esac
  shift
done
bin=${GRAPHKERN:-build/graphkern}
out=${PROFILE_OUT:-build/profile}
k1=${CALLGRIND_K1:-8} k2=${CALLGRIND_K2:-24}   # multiples of the 8 rotated inputs
[ -x "$bin" ] || { echo "profile: $bin not built (tools/build.sh)" >&2; exit 1; }
mkdir -p "$out"
paths=(specialized generic)
bench() {  # bench <path> <runs> [extra args]: one configuration, JSON line
  local path=$1 n=$2; shift 2
  "$bin" bench --scenario "$scenario" --path "$path" --runs "$n" --json --no-peak \
    --no-hist --max-seconds 0 "$@"
}
field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())[sys.argv[1]])' "$1"; }

echo "== profile: $scenario ($bin) =="
if ((do_perf)) && command -v perf >/dev/null; then
  if perf stat -x, -e instructions true 2>&1 | grep -qE '^[0-9]+,'; then
    events=task-clock,page-faults,context-switches,cycles,instructions,cache-misses,branch-misses
    echo "perf stat: hardware counters available"
  else
    events=task-clock,page-faults,context-switches,cpu-migrations
    echo "perf stat: software events only (this machine exposes no hardware counters)"
  fi
  for p in "${paths[@]}"; do
    perf stat -x, -e "$events" -o "$out/$scenario.$p.perfstat" -- \
      "$bin" bench --scenario "$scenario" --path "$p" --runs "$runs" --json --no-peak \
      --no-hist --max-seconds 0 > "$out/$scenario.$p.json"
    printf '  %-11s kernel %-24s p50 %8s us, %s runs (+ setup) in the process:\n' "$p" \
      "$(field kernel < "$out/$scenario.$p.json")" "$(field p50_us < "$out/$scenario.$p.json")" "$runs"
    grep -v '^#' "$out/$scenario.$p.perfstat" | grep -v '^$' |
      awk -F, '{printf "      %-18s %14s %s\n", $3, $1, $2}'
  done
  echo "perf record -e cpu-clock: top symbols"
  for p in "${paths[@]}"; do
    perf record -q -e cpu-clock -o "$out/$scenario.$p.perf.data" -- \
      "$bin" bench --scenario "$scenario" --path "$p" --runs "$runs" --json --no-peak \
      --no-hist --max-seconds 0 >/dev/null 2>&1
    echo "  [$p]"
    perf report -i "$out/$scenario.$p.perf.data" --stdio --sort dso,symbol \
      --percent-limit 2 2>/dev/null | grep -vE '^#|^$' | head -8 |
      sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/^/  /'
  done
elif ((do_perf)); then
  echo "perf: not installed (apt-get install -y linux-perf): perf stat/record skipped"
fi

if ((do_cg)); then
  command -v valgrind >/dev/null || { echo "valgrind not installed: callgrind skipped"; exit 1; }
  echo "callgrind: instructions per inference inside gk_infer, (Ir(K=$k2) - Ir(K=$k1)) / $((k2 - k1))"
  json="{\"scenario\": \"$scenario\""
  for p in "${paths[@]}"; do
    declare -A ir=()
    for k in "$k1" "$k2"; do
      valgrind --tool=callgrind --toggle-collect=gk_infer \
        --callgrind-out-file="$out/$scenario.$p.k$k.callgrind" \
        "$bin" bench --scenario "$scenario" --path "$p" --runs "$k" --warmup 0 --json \
        --no-peak --no-hist --max-seconds 0 > "$out/$scenario.$p.k$k.json" \
        2> "$out/$scenario.$p.k$k.log"
      ir[$k]=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/$scenario.$p.k$k.log")
    done
    kernel=$(field kernel < "$out/$scenario.$p.k$k2.json")
    per=$(( (ir[$k2] - ir[$k1]) / (k2 - k1) ))
    printf '  %-11s kernel %-24s %14d instructions per inference\n' "$p" "$kernel" "$per"
    json+=", \"$p\": {\"kernel\": \"$kernel\", \"ir_per_inference\": $per}"
    unset ir
  done
  echo "$json}" > "$out/$scenario.callgrind.json"
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print("  ratio specialized/generic: %.3f" % (d["specialized"]["ir_per_inference"]/d["generic"]["ir_per_inference"]))' \
    "$out/$scenario.callgrind.json"
  echo "  wrote $out/$scenario.callgrind.json"
fi
