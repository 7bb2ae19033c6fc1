#!/usr/bin/env python3
"""The CLI on whole models (format 2), standard library only:
    test_cli_models.py GRAPHKERN FIXTURES_DIR
- `graphkern infer` on each model fixture reads the inputs by name, writes
  the outputs by name, and prints an error vs y_ref_f64 (PyTorch's float64)
  of at most 1e-5, on every ISA the CPU runs and the generic path;
- `graphkern info` lists the inputs, outputs and every op with its kernel;
- `graphkern bench --model --json` times the model with 0 allocations;
- an input file without one of the model's inputs is refused (exit 1),
  naming the missing tensor.
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import unittest

CLI, FIXTURES = sys.argv[1], sys.argv[2]
MODELS = os.path.join(FIXTURES, "models")
CASES = sorted(f[:-len(".model.safetensors")] for f in os.listdir(MODELS)
               if f.endswith(".model.safetensors"))


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True)


def isas():
    flags = open("/proc/cpuinfo").read()
    out = ["scalar", "generic"]
    if " avx2" in flags and " fma" in flags:
        out.append("avx2")
    if " avx512f" in flags:
        out.append("avx512")
    if os.uname().machine == "aarch64":
        out.append("neon")
    return out


def tensor_names(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return [k for k in json.loads(f.read(n)) if k != "__metadata__"]


class CliModels(unittest.TestCase):
    def test_infer_by_name_on_every_isa(self):
        for case in CASES:
            for isa in isas():
                with self.subTest(case=case, isa=isa), tempfile.TemporaryDirectory() as d:
                    out = os.path.join(d, "y.safetensors")
                    r = run("infer", "--model", os.path.join(MODELS, case + ".model.safetensors"),
                            "--input", os.path.join(MODELS, case + ".io.safetensors"),
                            "--output", out, "--isa", isa)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    m = re.search(r"vs y_ref_f64: (\S+)", r.stdout)
                    self.assertIsNotNone(m, r.stdout)
                    self.assertLessEqual(float(m.group(1)), 1e-5)
                    self.assertIn("y", tensor_names(out))

    def test_info_lists_ops(self):
        r = run("info", "--model", os.path.join(MODELS, "lstm_gatv2_portfolio.model.safetensors"))
        self.assertEqual(r.returncode, 0, r.stderr)
        for word in ("format 2", "input  edge_attr", "lstm", "GATv2Conv", "layer_norm",
                     "softmax", "output y", "why:"):
            self.assertIn(word, r.stdout)

    def test_bench_model(self):
        case = "encoder_gat_skip_ln_mlp"
        r = run("bench", "--model", os.path.join(MODELS, case + ".model.safetensors"),
                "--input", os.path.join(MODELS, case + ".io.safetensors"), "--runs", "50",
                "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        for kind in ("specialized", "generic"):
            t = doc["timings"][kind]
            self.assertGreater(t["p50_us"], 0)
            self.assertIn(t["allocations"], (0, -1))   # -1: a sanitizer owns malloc

    def test_missing_input_refused(self):
        # the relations model's input file read for the encoder model: no
        # tensor named edge_index there
        r = run("infer", "--model", os.path.join(MODELS, "encoder_gat_skip_ln_mlp.model.safetensors"),
                "--input", os.path.join(MODELS, "relations_attention.io.safetensors"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("no tensor 'edge_index'", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
