#!/usr/bin/env python3
"""`graphkern bench --json --quick` prints every scenario of docs/performance.md
("Output contract") and the tick scenarios (tick_n100, tick_n1000, plus the corr_update_n1000 line)
for both paths with every contract field; the table, the histogram, --list
and --plot work too. Checks shape and sanity of the numbers, never their
speed.

Usage: test_bench_output.py path/to/graphkern"""
import json
import math
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SCENARIOS = ["dense100", "topk10_n100", "dense500", "dense1000", "topk16_n1000"]
TICKS = ["tick_n100", "tick_n1000"]   # push + graph rebuild + infer, per tick
CONTRACT = {  # docs/performance.md, with the types the consumers rely on
    "scenario": str, "nodes": int, "edges": int, "path": str, "isa": str,
    "threads": int, "p50_us": float, "p99_us": float, "p999_us": float,
    "graphs_per_s": float, "peak_rss_mb": float, "gflops": float,
    "pct_of_peak": float,
}
EXTRA = ["kernel", "edge_dim", "runs", "warmup", "p90_us", "max_us", "best20_us", "flops",
         "heap_delta_bytes", "page_faults", "peak_gflops"]
TICK_EXTRA = ["kernel", "edge_dim", "runs", "ticks", "p90_us", "max_us", "best20_us",
              "cpu_p50_us", "cpu_p99_us", "peak_gflops", "window", "top_k"]


def check_corr_update(row):
    assert row["nodes"] == 1000 and row["window"] == 256, row
    assert row["update_us"] > 0 and row["recompute_us"] > 0, row


def check_tick_line(row):
    """A tick: no FLOP count (gflops and pct_of_peak are 0, with a note)."""
    for key in TICK_EXTRA + ["gflops_note"]:
        assert key in row, f"missing {key}: {row}"
    assert row["gflops"] == 0 and row["pct_of_peak"] == 0, row
    assert row["runs"] == row["ticks"] > 0 and row["edge_dim"] == 1, row
    assert row["window"] == 256 and row["top_k"] == 16, row
    n = row["nodes"]
    assert n == int(row["scenario"][len("tick_n"):]), row
    assert 16 * n <= row["edges"] <= 32 * n, row   # symmetric top-16
    assert row["cpu_p50_us"] > 0 and row["cpu_p99_us"] >= row["cpu_p50_us"], row


def check_line(row):
    for key, kind in CONTRACT.items():
        assert key in row, f"missing {key}: {row}"
        value = row[key]
        if kind is float:
            assert isinstance(value, (int, float)) and math.isfinite(value), (key, row)
        else:
            assert isinstance(value, kind), (key, row)
    assert row["path"] in ("specialized", "generic"), row
    assert row["runs"] > 0 and row["nodes"] > 0 and row["edges"] > 0, row
    assert 0 < row["p50_us"] <= row["p90_us"] <= row["p99_us"] <= row["p999_us"] \
        <= row["max_us"], row
    assert row["graphs_per_s"] > 0 and row["peak_rss_mb"] > 0, row
    # a mean of 20 runs: between the fastest and the slowest run
    assert row["min_us"] - 1e-3 <= row["best20_us"] <= row["max_us"] + 1e-3, row
    if row["path"] == "generic":
        assert row["kernel"] == "generic" and row["isa"] == "generic", row
    if row["scenario"] in TICKS:
        check_tick_line(row)
        return
    for key in EXTRA:
        assert key in row, f"missing {key}: {row}"
    assert row["gflops"] > 0 and row["flops"] > 0 and row["pct_of_peak"] > 0, row
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
        lines = [json.loads(line) for line in out.splitlines()]
        corr = [row for row in lines if row["scenario"] == "corr_update_n1000"]
        rows = [row for row in lines if row["scenario"] != "corr_update_n1000"]
        assert len(corr) == 1, corr
        check_corr_update(corr[0])
        seen = set()
        for row in rows:
            check_line(row)
            seen.add((row["scenario"], row["path"], row["threads"]))
        names = [n for base in SCENARIOS for n in (base, base + "_edge1")] + TICKS
        for name in names:
            for path in ("specialized", "generic"):
                assert (name, path, 1) in seen, f"{name} {path} missing"
        assert len(rows) == len(seen) == 2 * len(names), len(rows)
        root = ET.parse(svg).getroot()   # well-formed SVG, one curve per row
        curves = [e for e in root.iter() if e.tag.endswith("polyline")]
        assert len(curves) == len(rows), (len(curves), len(rows))

    table = subprocess.run([exe, "bench", "--quick", "--scenario", "dense100",
                            "--path", "generic", "--no-peak"], check=True,
                           capture_output=True, text=True).stdout
    assert "p99.9_us" in table and "latency histogram" in table, table
    # %peak can read above 100: the table says why (issue 11)
    assert "above 100 means the kernel needed fewer" in table, table
    assert any(line.startswith("dense100 ") for line in table.splitlines()), table
    listed = subprocess.run([exe, "bench", "--list"], check=True, capture_output=True,
                            text=True).stdout.split()
    for name in SCENARIOS + TICKS:
        assert name in listed, (name, listed)
    table = subprocess.run([exe, "bench", "--quick", "--scenario", "tick_n100",
                            "--path", "generic", "--no-peak", "--threads", "1,2"],
                           check=True, capture_output=True, text=True).stdout
    ticks = [line for line in table.splitlines() if line.startswith("tick_n100 ")]
    assert len(ticks) == 2, table    # threads 1 and 2
    assert "incremental update vs full recompute at N=1000, T=256" in table, table
    assert "latency histogram, tick_n100" in table, table
    bad = subprocess.run([exe, "bench", "--scenario", "nope"], capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "nope" in bad.stderr, bad
    print(f"ok: {len(rows)} configurations")


if __name__ == "__main__":
    main()
