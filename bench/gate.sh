#!/usr/bin/env bash
# Performance regression gate on callgrind instruction counts (repeatable,
# immune to timing noise), from bench/profile.sh's summary:
#   1. specialized ≤ 50% of generic instructions per inference on the same
#      scenario, in the same run. When the plan's automatic choice is the
#      generic kernel (no specialized kernel built for this model/CPU), the
#      rule is reported as skipped.
#   2. each path ≤ its committed baseline (bench/baseline.json) + 10%, when
#      the baseline was recorded for the same kernel; another kernel means
#      the baseline is stale and must be updated, which is reported.
# A result more than 10% below the baseline asks for an update: commit the
# new bench/baseline.json (bench/gate.sh --update) with the change that
# improved it.
#
# Usage: bench/gate.sh [--update] [summary.json]
#        (default build/profile/dense100.callgrind.json)
set -euo pipefail
cd "$(dirname "$0")/.."
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
summary=${1:-${PROFILE_OUT:-build/profile}/dense100.callgrind.json}
[ -f "$summary" ] || { echo "gate: $summary missing (run bench/profile.sh first)" >&2; exit 1; }
python3 - "$summary" bench/baseline.json "$update" <<'PY'
import json, sys
summary_path, baseline_path, update = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
cur = json.load(open(summary_path))
scenario = cur["scenario"]
try:
    baseline = json.load(open(baseline_path))
except FileNotFoundError:
    baseline = {}
failed = False
spec, gen = cur["specialized"], cur["generic"]
print(f"== performance gate: {scenario} (callgrind instructions per inference) ==")
ratio = spec["ir_per_inference"] / gen["ir_per_inference"]
if spec["kernel"] == gen["kernel"]:
    print(f"  rule 1 (specialized <= 50% of generic): specialized path not built "
          f"(plan chose '{spec['kernel']}'): gate skipped")
else:
    ok = ratio <= 0.5
    failed |= not ok
    print(f"  rule 1 (specialized <= 50% of generic): {ratio:.3f} "
          f"({spec['kernel']} vs {gen['kernel']}): {'ok' if ok else 'FAIL'}")
base = baseline.get(scenario, {})
for path in ("specialized", "generic"):
    now, ref = cur[path], base.get(path)
    if ref is None:
        print(f"  rule 2 ({path} <= baseline + 10%): no baseline for {scenario}: skipped")
        continue
    if ref["kernel"] != now["kernel"]:
        # A renamed or newly chosen kernel must bring its baseline along in
        # the same commit; otherwise the gate could be dodged by a rename.
        failed |= not update
        print(f"  rule 2 ({path} <= baseline + 10%): baseline is for kernel "
              f"'{ref['kernel']}', measured '{now['kernel']}': "
              f"{'updating' if update else 'FAIL, run bench/gate.sh --update and commit'}")
        continue
    rel = now["ir_per_inference"] / ref["ir_per_inference"]
    ok = rel <= 1.10
    failed |= not ok
    note = " (improved by >10%: update bench/baseline.json in this commit)" if rel < 0.9 else ""
    print(f"  rule 2 ({path} <= baseline + 10%): {now['ir_per_inference']} vs "
          f"{ref['ir_per_inference']} = {rel:.3f}: {'ok' if ok else 'FAIL'}{note}")
if update:
    baseline[scenario] = {p: {"kernel": cur[p]["kernel"],
                              "ir_per_inference": cur[p]["ir_per_inference"]}
                          for p in ("specialized", "generic")}
    with open(baseline_path, "w") as f:
        json.dump(baseline, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"  updated {baseline_path}")
print("  gate:", "FAILED" if failed else "passed")
sys.exit(1 if failed else 0)
PY
