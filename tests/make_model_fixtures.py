#!/usr/bin/env python3
"""Export the whole-model fixtures (PyG models with their weights) to the
format-2 files the C tests read, so that those tests need no torch:

    PYTHONPATH=build/python:../shared/vendor/pyg-2.6.1 /usr/bin/python3 \
        tests/make_model_fixtures.py ../shared/fixtures/models tests/fixtures/models

For each case: <case>.model.safetensors (graphkern.export, checked against
float64) and <case>.io.safetensors (the case's inputs and y_ref_f64, copied).
Then the models of tests/python/extra_models.py named in EXTRA (seeded
weights and inputs, y_ref_f64 from the model run in float64), so that the
C tests cover their ops (embeddings, masks, var/std, GRU, several edge sets).
"""
import importlib.util
import json
import os
import shutil
import sys

import torch

import graphkern
from graphkern._export import ExportError  # noqa: F401  (import check)


def load_tensors(path):
    import struct
    import numpy as np
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    types = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        arr = np.frombuffer(b[8 + n + s:8 + n + e], dtype=types[v["dtype"]])
        out[k] = torch.from_numpy(arr.reshape(v["shape"]).copy())
    return out


def load_case(root, case):
    spec = importlib.util.spec_from_file_location("case_" + case,
                                                  os.path.join(root, case, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.build().eval()
    model.load_state_dict(load_tensors(os.path.join(root, case, "weights.safetensors")))
    info = json.load(open(os.path.join(root, case, "case.json")))
    io = load_tensors(os.path.join(root, case, "io.safetensors"))
    if info["forward"] == "data":
        from torch_geometric.data import Data
        example = Data(**{k: io[k] for k in info["inputs"]})
    else:
        example = tuple(io[k] for k in info["inputs"])
    return model, example, io, info


def main(argv):
    src, dst = argv[1], argv[2]
    os.makedirs(dst, exist_ok=True)
    cases = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for case in cases:
        model, example, _, _ = load_case(src, case)
        ex = graphkern.export(model, example, os.path.join(dst, case + ".model.safetensors"))
        shutil.copyfile(os.path.join(src, case, "io.safetensors"),
                        os.path.join(dst, case + ".io.safetensors"))
        print("%-26s %d ops, max error vs float64 %.2e" % (case, len(ex.doc["ops"]),
                                                          ex.max_error))
    extra(dst)


EXTRA = ["sector_embedding", "masked_portfolio", "cross_section_norm", "gru_gatv2_weights",
         "three_relations"]


def write_tensors(path, tensors):
    """A safetensors file of numpy-convertible tensors (F32, F64, I64)."""
    import numpy as np
    codes = {np.dtype("float32"): "F32", np.dtype("float64"): "F64",
             np.dtype("int64"): "I64"}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        data = a.tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    import struct
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def extra(dst):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "python"))
    import extra_models as em
    from test_export import float64_run
    for name in EXTRA:
        build, make_inputs = em.MODELS[name]
        gen = torch.Generator().manual_seed(sum(name.encode()))
        model = em.randomize(build(), gen)
        example = make_inputs(24, gen)
        ex = graphkern.export(model, example, os.path.join(dst, name + ".model.safetensors"))
        names = list(ex._inputs.tensors)
        io = {k: (v.float() if v.dtype == torch.bool else v).numpy()
              for k, v in ex._inputs.tensors.items()}
        io["y_ref_f64"] = float64_run(model, example).numpy()
        write_tensors(os.path.join(dst, name + ".io.safetensors"), io)
        print("%-26s %d ops, inputs %s, max error vs float64 %.2e"
              % (name, len(ex.doc["ops"]), names, ex.max_error))


if __name__ == "__main__":
    main(sys.argv)
