#!/usr/bin/env python3
"""The CLI and Python refuse the same inputs (docs/errors.md, "CLI and
Python: one table of refusals"). Each row below is one bad input file or
model; it is refused by `graphkern` (exit 1, one line naming the problem)
and by the graphkern Python package (an exception naming it), and each bad
model also by `tools/export_pyg.py --check`. The expected phrases are the
ones the table in docs/errors.md quotes.

Usage: test_refusals.py path/to/graphkern path/to/fixtures path/to/export_pyg.py
(PYTHONPATH must find the built graphkern package)."""
import array
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import graphkern

CLI, FIXTURES, EXPORT_PYG = sys.argv[1:4]
NO_EDGES = "quirky_n12"          # F = 8, edge_dim 0
EDGES = "fill_add_n24_edge3"     # F = 8, edge_dim 3
N, E = 4, 3


# ---- safetensors without any library -------------------------------------

def write_st(path, tensors, metadata=None):
    """tensors: name -> (dtype, shape, bytes)."""
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def read_st(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    meta = header.pop("__metadata__", None)
    tensors = {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
               for k, v in header.items()}
    return tensors, meta


def model_path(name):
    return os.path.join(FIXTURES, name + ".model.safetensors")


# ---- one bad input, as a file (CLI) and as buffers (Python) ---------------

def typed(code, values, shape):
    """A memoryview of the given shape over array(code, values)."""
    return memoryview(array.array(code, values)).cast("B").cast(code, shape)


def inputs(x_code="f", x_cols=8, ei_code="q", ei=None, ea=None, ea_cols=3, nan=None):
    x = [0.1 * k for k in range(N * x_cols)]
    if nan == "x":
        x[5] = float("nan")
    ei = ei or [0, 1, 2, 1, 2, 3]
    arrays = {"x": (x_code, x, [N, x_cols]), "edge_index": (ei_code, ei, [2, E])}
    if ea:
        a = [0.5] * (E * ea_cols)
        if nan == "edge_attr":
            a[1] = float("inf")
        arrays["edge_attr"] = ("f", a, [E, ea_cols])
    return arrays


ST_DTYPE = {"f": "F32", "d": "F64", "q": "I64", "i": "I32"}

# (row, model, input arrays, phrase the CLI prints, phrase Python raises)
INPUT_ROWS = [
    ("x is float64", NO_EDGES, inputs(x_code="d"),
     "x is F64, expected F32", "x must be float32, got float64"),
    ("x has the wrong width", NO_EDGES, inputs(x_cols=9),
     "x has 9 features, the model expects 8", "x must have shape [rows, 8]"),
    ("edge_index is float32", NO_EDGES, inputs(ei_code="f", ei=[0.0, 1, 2, 1, 2, 3]),
     "edge_index is F32, expected I64 or I32", "edge_index must be int64 or int32"),
    ("an index out of range", NO_EDGES, inputs(ei=[0, 1, 2, 1, 2, 7]),
     "edge_index[1][2] = 7 is not a node in [0, 4)",
     "edge_index[1][2] = 7 is not a node in [0, 4)"),
    ("edge_attr given, model has none", NO_EDGES, inputs(ea=True),
     "edge_attr given, but the model has no edge features (edge_dim 0)",
     "edge_attr given, but the model has no edge features (edge_dim 0)"),
    ("edge_attr missing", EDGES, inputs(),
     "edge_attr [E, 3] F32 is required: the model has edge_dim 3",
     "edge_attr [E, 3] float32 is required: the model has edge_dim 3"),
    ("edge_attr has the wrong width", EDGES, inputs(ea=True, ea_cols=2),
     "edge_attr has 2 features, the model expects 3",
     "edge_attr must have shape [rows, 3]"),
    ("edge_attr not finite", EDGES, inputs(ea=True, nan="edge_attr"),
     "edge_attr[0][1] is inf", "edge_attr[0][1] is inf"),
    ("x not finite", NO_EDGES, inputs(nan="x"), "x[0][5] is not finite",
     "x[0][5] is not finite"),
]


def edit_metadata(edit):
    def make(path):
        tensors, meta = read_st(model_path(NO_EDGES))
        meta["graphkern"] = edit(meta["graphkern"])
        write_st(path, tensors, meta)
    return make


def misspelled_entry_key(path):
    tensors, meta = read_st(model_path(NO_EDGES))
    write_st(path, tensors, meta)
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = buf[8:8 + n].replace(b'"data_offsets"', b'"data_offsets": [0, 0], "data_ofsets"', 1)
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + buf[8 + n:])


def trailing_bytes(path):
    write_st(path, *read_st(model_path(NO_EDGES)))
    with open(path, "ab") as f:
        f.write(b"\0" * 4)


def hole(path):
    tensors, meta = read_st(model_path(NO_EDGES))
    first = sorted(tensors)[0]  # written first, then 4 bytes nobody owns
    header, data = {}, b""
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw + (b"\0" * 4 if name == first else b"")
    header["__metadata__"] = meta
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def u32_bias(path):
    tensors, meta = read_st(model_path(NO_EDGES))
    tensors["conv1.bias"] = ("U32",) + tensors["conv1.bias"][1:]
    write_st(path, tensors, meta)


# (row, how to make the file, phrase all three readers say)
MODEL_ROWS = [
    ("misspelled layer key", edit_metadata(
        lambda m: m.replace('"add_self_loops": true', '"add_self_loop": false', 1)),
     "unknown key 'add_self_loop' (did you mean 'add_self_loops'?)"),
    ("unknown top-level key", edit_metadata(
        lambda m: m.replace('"version": 1,', '"version": 1, "layer": [],')),
     "unknown key 'layer' (did you mean 'layers'?)"),
    ("a key twice", edit_metadata(
        lambda m: m.replace('"heads": 2,', '"heads": 2, "heads": 1,', 1)),
     "'heads' appears twice"),
    ("share_weights on a GATConv", edit_metadata(
        lambda m: m.replace('"bias": true', '"share_weights": true, "bias": true', 1)),
     "share_weights"),
    ("metadata version 3", edit_metadata(
        lambda m: m.replace('"version": 1', '"version": 3')), "version"),
    ("a U32 layer tensor", u32_bias, "U32"),
    ("a misspelled key in a tensor entry", misspelled_entry_key,
     "unknown key 'data_ofsets' (did you mean 'data_offsets'?)"),
    ("bytes after the last tensor", trailing_bytes, "4 trailing bytes after the last tensor"),
    ("a hole between tensors", hole, "hole in the data before it"),
]


def run(*args):
    return subprocess.run(args, capture_output=True, text=True)


class Refusals(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def cli_refuses(self, args, phrase):
        r = run(CLI, *args)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(phrase, lines[0])

    def test_inputs(self):
        for row, model, arrays, cli_phrase, py_phrase in INPUT_ROWS:
            with self.subTest(row=row):
                path = os.path.join(self.tmp.name, "in.io.safetensors")
                write_st(path, {name: (ST_DTYPE[code], shape, array.array(code, v).tobytes())
                                for name, (code, v, shape) in arrays.items()})
                self.cli_refuses(["infer", "--model", model_path(model), "--input", path],
                                 cli_phrase)
                views = {name: typed(code, v, shape)
                         for name, (code, v, shape) in arrays.items()}
                plan = graphkern.Model(model_path(model)).plan(N, E)
                with self.assertRaises((ValueError, TypeError, graphkern.Error)) as caught:
                    plan.infer(views["x"], views["edge_index"], views.get("edge_attr"))
                self.assertIn(py_phrase, str(caught.exception))

    def test_models(self):
        for row, make, phrase in MODEL_ROWS:
            with self.subTest(row=row):
                path = os.path.join(self.tmp.name, "bad.model.safetensors")
                make(path)
                self.cli_refuses(["info", "--model", path], phrase)
                with self.assertRaises(graphkern.Error) as caught:
                    graphkern.Model(path)
                self.assertIn(phrase, str(caught.exception))
                r = run(sys.executable, EXPORT_PYG, "--check", path)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(phrase, r.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[4:])
