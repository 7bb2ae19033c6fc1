#!/usr/bin/env python3
"""Whole PyG models (format version 2): PyTorch eager against graphkern.

For every fixture model under --models (default ../shared/fixtures/models
relative to the repository root; each <case>/ holds model.py,
weights.safetensors, io.safetensors and case.json), in one process pinned
to one CPU (--cpu, default 1) with torch.set_num_threads(1):

  torch     model(*inputs) under torch.no_grad(), float32, eager
  compiled  graphkern.compile(model, inputs, max_nodes=N, max_edges=E,
            threads=1) called like the model: fast(*inputs) (torch in, out)
  run       plan.run({name: numpy array}) on the same plan: the binding
            without the forward-signature layer
  C         where the model has one node input, one edge set without
            edge_attr and one output: gk_graph_set_coo + gk_infer timed in
            a C loop (plan._bench_c), i.e. without Python; "-" otherwise

Each call is timed alone (perf_counter_ns; clock_gettime in C) after a
warm-up; rounds alternate the four so that machine noise hits each alike.
p50 and p99 are over all timed calls. Outputs are checked against the
fixture's float64 reference y_ref_f64: max|y - ref| / max(1e-3, max|ref|)
<= 1e-5 for both the compiled callable and PyTorch's float32 result.

The goals of the whole-model issue are printed beside each row (graphkern =
the compiled callable's p50): >= 100x PyTorch on every fixture but
lstm_gatv2_portfolio (>= 30x); encoder_gat_skip_ln_mlp <= 8 us and
lstm_gatv2_portfolio <= 40 us. They are reported, never asserted: the exit
status is 0 unless an output is wrong (1) or the arguments are (2).

Needs torch and torch_geometric (PyG 2.6.1: put vendor/pyg-2.6.1 on
PYTHONPATH); without them it says so and exits 0.

    PYTHONPATH=build/python:../shared/vendor/pyg-2.6.1 \\
        /usr/bin/python3 bench/bench_models.py [--cpu 1] [--calls 2000] [--json]
"""

import argparse
import importlib.util
import json
import os
import platform
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOLERANCE = 1e-5

GOALS = {  # case -> (minimum speed-up over PyTorch, maximum p50 in us or None)
    "lstm_gatv2_portfolio": (30.0, 40.0),
    "encoder_gat_skip_ln_mlp": (100.0, 8.0),
}
DEFAULT_GOAL = (100.0, None)


def skip(why):
    print("bench_models: skipped: %s" % why)
    sys.exit(0)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_safetensors(path, np):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        begin, end = v["data_offsets"]
        arr = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=dtypes[v["dtype"]])
        out[name] = arr.reshape(v["shape"]).copy()
    return out


def pct(sorted_ns, q):
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def time_calls(call, n):
    clock = time.perf_counter_ns
    ns = [0] * n
    for i in range(n):
        t0 = clock()
        call()
        ns[i] = clock() - t0
    return ns


def rel_error(got, ref):
    ref = ref.double()
    scale = max(1e-3, float(ref.abs().max()))
    return float((got.double() - ref).abs().max()) / scale


class Case:
    def __init__(self, directory, name, torch, np):
        self.name = name
        path = os.path.join(directory, name)
        spec = importlib.util.spec_from_file_location("gk_bench_model_" + name,
                                                      os.path.join(path, "model.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        self.model = mod.build().eval()
        weights = load_safetensors(os.path.join(path, "weights.safetensors"), np)
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
        with open(os.path.join(path, "case.json")) as f:
            self.case = json.load(f)
        io = load_safetensors(os.path.join(path, "io.safetensors"), np)
        self.names = list(self.case["inputs"])
        self.numpy_inputs = {k: np.ascontiguousarray(io[k]) for k in self.names}
        self.tensors = tuple(torch.from_numpy(self.numpy_inputs[k]) for k in self.names)
        self.ref = torch.from_numpy(io["y_ref_f64"])
        self.data = self.case["forward"] == "data"
        if self.data:
            from torch_geometric.data import Data
            self.example = Data(**dict(zip(self.names, self.tensors)))
            self.args = (self.example,)
        else:
            self.example = self.tensors
            self.args = self.tensors
        self.nodes = int(self.case.get("nodes") or self.tensors[0].shape[0])
        self.edges = max([int(t.shape[1]) for t in self.tensors
                          if t.dtype in (torch.int64, torch.int32) and t.dim() == 2] + [1])


def bench_case(c, args, torch, np, graphkern):
    fast = graphkern.compile(c.model, c.example, max_nodes=c.nodes, max_edges=c.edges,
                             threads=1)
    plan = fast.plan
    row = {"case": c.name, "nodes": c.nodes, "edges": c.edges,
           "export_check_error": fast.exported.max_error}

    # correctness against the float64 reference
    with torch.no_grad():
        y_torch = c.model(*c.args)
    y_fast = fast(*c.args)
    y_run = plan.run(c.numpy_inputs)[fast.exported.output_names[0]]
    row["error_torch_f32"] = rel_error(y_torch, c.ref)
    row["error_compiled"] = rel_error(y_fast, c.ref)
    row["error_run"] = rel_error(torch.from_numpy(np.asarray(y_run)), c.ref)
    row["ok"] = row["error_compiled"] <= TOLERANCE and row["error_run"] <= TOLERANCE

    # the C loop, where gk_infer runs the model (one node input, one edge set,
    # no edge_attr, one output); anything else is reported as "-"
    c_call = None
    doc = fast.exported.doc
    kinds = [i["kind"] for i in doc["inputs"]]
    if kinds.count("nodes") == 1 and kinds.count("edge_index") == 1 and \
            len(kinds) == 2 and len(doc["outputs"]) == 1 and \
            len(c.numpy_inputs[[i["name"] for i in doc["inputs"]
                                if i["kind"] == "nodes"][0]].shape) == 2:
        xname = [i["name"] for i in doc["inputs"] if i["kind"] == "nodes"][0]
        ename = [i["name"] for i in doc["inputs"] if i["kind"] == "edge_index"][0]
        x, ei = c.numpy_inputs[xname], c.numpy_inputs[ename]
        out = np.zeros(max(1, y_fast.numel()), dtype=np.float32)
        try:
            plan._bench_c(ei, x, out.reshape(c.nodes, -1) if out.size % c.nodes == 0
                          else out.reshape(1, -1), 10)
            c_out = out.reshape(c.nodes, -1) if out.size % c.nodes == 0 else out.reshape(1, -1)
            err = rel_error(torch.from_numpy(c_out.reshape(tuple(y_fast.shape))), c.ref)
            if err <= TOLERANCE:
                c_call = lambda k: plan._bench_c(ei, x, c_out, k)  # noqa: E731
            row["error_c"] = err
        except Exception as e:  # a model gk_infer does not run: no C column
            row["c_skipped"] = "%s: %s" % (type(e).__name__, e)

    def torch_call():
        with torch.no_grad():
            c.model(*c.args)

    def fast_call():
        fast(*c.args)

    def run_call():
        plan.run(c.numpy_inputs)

    # warm-up, and PyTorch's call count from its speed (at most --calls)
    for _ in range(args.warmup):
        fast_call()
        run_call()
    t_torch = time_calls(torch_call, max(20, args.warmup // 10))
    per_call = sorted(t_torch)[len(t_torch) // 2] / 1e9
    n_torch = max(200, min(args.calls, int(args.torch_seconds / max(per_call, 1e-9))))
    if c_call:
        c_call(args.warmup)

    samples = {"torch": [], "compiled": [], "run": [], "c": []}
    rounds = args.rounds
    for r in range(rounds):
        share = lambda n: n // rounds + (1 if r < n % rounds else 0)  # noqa: E731
        samples["torch"] += time_calls(torch_call, share(n_torch))
        samples["compiled"] += time_calls(fast_call, share(args.calls))
        samples["run"] += time_calls(run_call, share(args.calls))
        if c_call:
            samples["c"] += list(c_call(share(args.calls)))
    for key, ns in samples.items():
        if not ns:
            row[key] = None
            continue
        ns.sort()
        row[key] = {"calls": len(ns), "p50_us": pct(ns, 0.50), "p99_us": pct(ns, 0.99)}
    row["speedup"] = row["torch"]["p50_us"] / row["compiled"]["p50_us"]
    row["speedup_run"] = row["torch"]["p50_us"] / row["run"]["p50_us"]
    row["speedup_c"] = row["torch"]["p50_us"] / row["c"]["p50_us"] if row["c"] else None
    min_speedup, max_p50 = GOALS.get(c.name, DEFAULT_GOAL)
    row["goal_speedup"] = min_speedup
    row["goal_p50_us"] = max_p50
    row["speedup_met"] = row["speedup"] >= min_speedup
    row["p50_met"] = None if max_p50 is None else row["compiled"]["p50_us"] <= max_p50
    return row


def print_table(rows, info):
    print("graphkern whole models (format 2) on %s, pinned to CPU %d, 1 thread"
          % (info["cpu_name"], info["cpu"]))
    print("torch %s, PyG %s, Python %s; p50/p99 in us; calls per column below the table"
          % (info["torch"], info["pyg"], info["python"]))
    print()
    head = ("%-24s %5s %5s | %9s %9s | %8s %8s | %8s %8s | %7s %7s | %7s %7s %7s | %s"
            % ("case", "N", "E", "torch p50", "p99", "gk p50", "p99", "run p50", "p99",
               "C p50", "p99", "x gk", "x run", "x C", "goal"))
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print("%-24s FAILED: %s" % (r["case"], r["error"]))
            continue
        cp = ("%7.2f %7.2f" % (r["c"]["p50_us"], r["c"]["p99_us"])) if r["c"] else \
            "%7s %7s" % ("-", "-")
        xc = "%6.0fx" % r["speedup_c"] if r["speedup_c"] else "%7s" % "-"
        goal = ">= %gx: %s" % (r["goal_speedup"], "met" if r["speedup_met"] else "NOT met")
        if r["goal_p50_us"] is not None:
            goal += "; p50 <= %g us: %s" % (r["goal_p50_us"],
                                           "met" if r["p50_met"] else "NOT met")
        print("%-24s %5d %5d | %9.1f %9.1f | %8.2f %8.2f | %8.2f %8.2f | %s | %6.0fx %6.0fx %s | %s"
              % (r["case"], r["nodes"], r["edges"], r["torch"]["p50_us"], r["torch"]["p99_us"],
                 r["compiled"]["p50_us"], r["compiled"]["p99_us"], r["run"]["p50_us"],
                 r["run"]["p99_us"], cp, r["speedup"], r["speedup_run"], xc, goal))
    print()
    for r in rows:
        if "error" in r:
            continue
        print("%-24s calls: torch %d, gk %d, run %d, C %s; rel. error vs y_ref_f64: "
              "gk %.1e, run %.1e, torch f32 %.1e -> %s"
              % (r["case"], r["torch"]["calls"], r["compiled"]["calls"], r["run"]["calls"],
                 r["c"]["calls"] if r["c"] else "-", r["error_compiled"], r["error_run"],
                 r["error_torch_f32"], "ok" if r["ok"] else "WRONG (limit %g)" % TOLERANCE))
    print()
    print("gk = graphkern.compile(...) called like the model (torch tensors in and out);")
    print("run = plan.run({name: numpy}); C = gk_graph_set_coo + gk_infer in a C loop")
    print("(only for one node input, one edge set without edge_attr, one output);")
    print("x = PyTorch p50 / graphkern p50. Goals use gk (the compiled callable).")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(ROOT, "..", "shared", "fixtures",
                                                     "models"),
                    help="directory of fixture models (default: %(default)s)")
    ap.add_argument("--cpu", type=int, default=1, help="CPU to pin to (default 1)")
    ap.add_argument("--calls", type=int, default=2000,
                    help="timed calls per graphkern column (default 2000)")
    ap.add_argument("--torch-seconds", type=float, default=4.0,
                    help="PyTorch gets min(--calls, this many seconds of calls), at "
                    "least 200 (default 4)")
    ap.add_argument("--warmup", type=int, default=200, help="untimed calls first")
    ap.add_argument("--rounds", type=int, default=5,
                    help="rounds alternating the columns (default 5)")
    ap.add_argument("--case", action="append", help="only this case (repeatable)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args()
    if args.calls < 1 or args.rounds < 1 or args.warmup < 0:
        ap.error("--calls and --rounds must be >= 1, --warmup >= 0")

    try:
        import numpy as np
        import torch
    except ImportError as e:
        skip("torch or numpy is missing (%s); Debian: apt-get install python3-torch" % e)
    try:
        import torch_geometric
    except ImportError as e:
        skip("PyG (torch_geometric) is missing (%s); put vendor/pyg-2.6.1 on PYTHONPATH" % e)
    try:
        import graphkern
    except ImportError:
        sys.path.insert(0, os.path.join(ROOT, "build", "python"))
        try:
            import graphkern
        except ImportError as e:
            skip("the graphkern module is not built (%s); run tools/build.sh" % e)
    if not os.path.isdir(args.models):
        skip("no models directory %s (--models DIR)" % args.models)
    cases = sorted(d for d in os.listdir(args.models)
                   if os.path.isfile(os.path.join(args.models, d, "model.py")))
    if args.case:
        cases = [c for c in cases if c in args.case]
    if not cases:
        skip("no fixture models under %s" % args.models)

    try:
        os.sched_setaffinity(0, {args.cpu})
    except (OSError, ValueError) as e:
        print("bench_models: cannot pin to CPU %d (%s)" % (args.cpu, e), file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    info = {"cpu_name": cpu_name(), "cpu": args.cpu, "torch": torch.__version__,
            "pyg": torch_geometric.__version__, "python": platform.python_version(),
            "graphkern": graphkern.__version__, "models": os.path.abspath(args.models),
            "calls": args.calls, "warmup": args.warmup, "rounds": args.rounds,
            "tolerance": TOLERANCE}
    rows = []
    for name in cases:
        try:
            c = Case(args.models, name, torch, np)
            rows.append(bench_case(c, args, torch, np, graphkern))
        except Exception as e:  # one broken case does not hide the others
            rows.append({"case": name, "error": "%s: %s" % (type(e).__name__, e),
                         "ok": False})
        if not args.json:
            print("  %s done" % name, file=sys.stderr)
    if args.json:
        print(json.dumps({"info": info, "models": rows}, indent=1))
    else:
        print_table(rows, info)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
