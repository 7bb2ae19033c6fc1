#!/usr/bin/env python3
"""Per-call overhead of the Python binding over the C call, in one process
on the same buffers (docs/python.md):

  C       gk_infer timed in a C loop (plan._bench_c), prebuilt graph
  Python  plan.infer(x, graph=g, out=out): the fast path, same buffers
  and the same pair for the COO path (gk_graph_set_coo + gk_infer vs
  plan.infer(x, edge_index, out=out)).

Each call is timed alone (clock_gettime in C, perf_counter_ns in Python);
rounds alternate C and Python so that machine noise hits both; the table
gives, per path, the median over rounds of each round's median and p99.

    PYTHONPATH=build/python python3 tools/bench_python_overhead.py [--fixture NAME]
"""

import argparse
import json
import os
import statistics
import sys
import time

import graphkern

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
from gktest import load_case, numpy  # noqa: E402


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def python_times(call, n):
    clock = time.perf_counter_ns
    ns = [0] * n
    for i in range(n):
        t0 = clock()
        call()
        ns[i] = clock() - t0
    return ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", default="ref_topk10_n100")
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    path, io = load_case(args.fixture)
    model = graphkern.Model(path)
    n, e = io["x"][1][0], io["edge_index"][1][1]
    x, ei = io["x"][2], io["edge_index"][2]
    if numpy is not None:  # what a user would pass
        x = numpy.frombuffer(x, numpy.float32).reshape(n, -1)
        ei = numpy.frombuffer(ei, numpy.int64).reshape(2, e)
        out = numpy.empty((n, model.out_features), numpy.float32)
    else:
        import array
        out = array.array("f", bytes(n * model.out_features * 4))
    if "edge_attr" in io:
        sys.exit("bench_overhead: fixtures with edge_attr are not supported")
    plan = model.plan(n, e)
    g = model.graph(n, e)
    g.set(ei, num_nodes=n)

    paths = {
        "graph": (lambda: plan._bench_c(g, x, out, args.calls),
                  lambda: plan.infer(x, graph=g, out=out)),
        "coo": (lambda: plan._bench_c(ei, x, out, args.calls),
                lambda: plan.infer(x, ei, out=out)),
    }
    best = {}  # path -> (C p50, p99, min, Python p50, p99, min) in ns
    for name, (c_run, py_call) in paths.items():
        c_run()
        python_times(py_call, 1000)  # warm up
        rounds = []
        for _ in range(args.rounds):
            c = c_run()
            p = python_times(py_call, args.calls)
            rounds.append((statistics.median(c), pct(c, 0.99), min(c),
                           statistics.median(p), pct(p, 0.99), min(p)))
        best[name] = tuple(statistics.median(r[k] for r in rounds) for k in range(6))

    rows = []
    for name, (c50, c99, cmin, p50, p99, pmin) in best.items():
        rows.append({"fixture": args.fixture, "path": name, "nodes": n, "edges": e,
                     "c_p50_us": c50 / 1e3, "c_p99_us": c99 / 1e3, "c_min_us": cmin / 1e3,
                     "py_p50_us": p50 / 1e3, "py_p99_us": p99 / 1e3,
                     "py_min_us": pmin / 1e3,
                     "overhead_p50_us": (p50 - c50) / 1e3,
                     "overhead_min_us": (pmin - cmin) / 1e3,
                     "numpy": numpy is not None, "python": sys.version.split()[0]})
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return
    print("%s (%d nodes, %d edges), %d calls x %d rounds, numpy %s, Python %s"
          % (args.fixture, n, e, args.calls, args.rounds,
             "yes" if numpy is not None else "no", sys.version.split()[0]))
    print("%-6s %9s %9s %9s %9s %9s %9s %9s %9s" % (
        "path", "C min", "C p50", "C p99", "Py min", "Py p50", "Py p99", "ovh min",
        "ovh p50"))
    for r in rows:
        print("%-6s" % r["path"] + "".join(" %7.2fus" % r[k] for k in (
            "c_min_us", "c_p50_us", "c_p99_us", "py_min_us", "py_p50_us", "py_p99_us",
            "overhead_min_us", "overhead_p50_us")))
    print("(median over rounds of each statistic; overhead = Python - C)")


if __name__ == "__main__":
    main()
