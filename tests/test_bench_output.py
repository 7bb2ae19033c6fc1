#!/usr/bin/env python3
"""`graphkern bench --json --quick` prints every scenario of DESIGN.md §7 for
both paths with every contract field; the table, the histogram and --plot
work too. Checks shape and sanity of the numbers, never their speed.

Usage: test_bench_output.py path/to/graphkern"""
import json
import math
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SCENARIOS = ["dense100", "topk10_n100", "dense500", "dense1000", "topk16_n1000"]
CONTRACT = {  # DESIGN.md §7, with the types the consumers rely on
    "scenario": str, "nodes": int, "edges": int, "path": str, "isa": str,
    "threads": int, "p50_us": float, "p99_us": float, "p999_us": float,
    "graphs_per_s": float, "peak_rss_mb": float, "gflops": float,
    "pct_of_peak": float,
}
EXTRA = ["kernel", "edge_dim", "runs", "warmup", "p90_us", "max_us", "flops",
         "heap_delta_bytes", "page_faults", "peak_gflops"]


def check_line(row):
    for key, kind in CONTRACT.items():
        assert key in row, f"missing {key}: {row}"
        value = row[key]
        if kind is float:
            assert isinstance(value, (int, float)) and math.isfinite(value), (key, row)
        else:
            assert isinstance(value, kind), (key, row)
    for key in EXTRA:
        assert key in row, f"missing {key}: {row}"
    assert row["path"] in ("specialized", "generic"), row
    assert row["runs"] > 0 and row["nodes"] > 0 and row["edges"] > 0, row
    assert 0 < row["p50_us"] <= row["p90_us"] <= row["p99_us"] <= row["p999_us"] \
        <= row["max_us"], row
    assert row["graphs_per_s"] > 0 and row["gflops"] > 0 and row["flops"] > 0, row
    assert row["peak_rss_mb"] > 0 and row["pct_of_peak"] > 0, row
    if row["path"] == "generic":
        assert row["kernel"] == "generic" and row["isa"] == "generic", row
    n = row["nodes"]
    if row["scenario"].startswith("dense"):
        assert row["edges"] == n * (n - 1), row
    assert row["edge_dim"] == (1 if row["scenario"].endswith("_edge1") else 0), row


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        svg = f"{tmp}/lat.svg"
        out = subprocess.run([exe, "bench", "--json", "--quick", "--plot", svg],
                             check=True, capture_output=True, text=True).stdout
        rows = [json.loads(line) for line in out.splitlines()]
        seen = set()
        for row in rows:
            check_line(row)
            seen.add((row["scenario"], row["path"], row["threads"]))
        for base in SCENARIOS:
            for name in (base, base + "_edge1"):
                for path in ("specialized", "generic"):
                    assert (name, path, 1) in seen, f"{name} {path} missing"
        assert len(rows) == len(seen) == 2 * 2 * len(SCENARIOS), len(rows)
        root = ET.parse(svg).getroot()   # well-formed SVG, one curve per row
        curves = [e for e in root.iter() if e.tag.endswith("polyline")]
        assert len(curves) == len(rows), (len(curves), len(rows))

    table = subprocess.run([exe, "bench", "--quick", "--scenario", "dense100",
                            "--path", "generic", "--no-peak"], check=True,
                           capture_output=True, text=True).stdout
    assert "p99.9_us" in table and "latency histogram" in table, table
    assert any(line.startswith("dense100 ") for line in table.splitlines()), table
    bad = subprocess.run([exe, "bench", "--scenario", "nope"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "nope" in bad.stderr, bad
    print(f"ok: {len(rows)} configurations")


if __name__ == "__main__":
    main()
