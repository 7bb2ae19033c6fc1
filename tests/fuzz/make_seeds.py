#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, generated from tests/fixtures.

usage: make_seeds.py OUT_DIR   (writes OUT_DIR/<target>/*; stdlib only)

Besides the fixtures themselves (those up to 64 KiB, so that mutations stay
fast), it writes variants that reach code the fixtures do not: F16, BF16
and F64 weights, PyG <= 2.4's lin_src/lin_dst spelling, int32 edge_index.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
MAX_SEED = 64 * 1024
# The graph target's model order (fuzz_graph_coo.c's fixture_names).
GRAPH_MODELS = ["quirky_n12", "fill_add_n24_edge3", "gatv2_quirky_n16_edge1",
                "noselfloops_n10", "quirky_edge2_n20_h3mean", "residual_n30"]


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", None)
    tensors = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        tensors[name] = (t["dtype"], t["shape"], data[b:e])
    return tensors, meta


def write_st(tensors, meta):
    header, blobs, off = {}, [], 0
    for name, (dtype, shape, blob) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    if meta is not None:
        header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def floats(blob):
    return struct.unpack("<%df" % (len(blob) // 4), blob)


def convert(tensors, dtype):
    """F32 tensors to F64, F16 ('e') or BF16 (top half of the F32 bits)."""
    out = {}
    for name, (dt, shape, blob) in tensors.items():
        if dt != "F32":
            out[name] = (dt, shape, blob)
        elif dtype == "F64":
            out[name] = ("F64", shape, struct.pack("<%dd" % (len(blob) // 4), *floats(blob)))
        elif dtype == "F16":
            out[name] = ("F16", shape, struct.pack("<%de" % (len(blob) // 4), *floats(blob)))
        else:
            words = struct.unpack("<%dI" % (len(blob) // 4), blob)
            out[name] = ("BF16", shape, struct.pack("<%dH" % len(words),
                                                    *[w >> 16 for w in words]))
    return out


def old_spelling(tensors):
    out = {}
    for name, t in tensors.items():
        if name.endswith(".lin.weight"):
            prefix = name[: -len("lin.weight")]
            out[prefix + "lin_src.weight"] = t
            out[prefix + "lin_dst.weight"] = t
        else:
            out[name] = t
    return out


def graph_seed(model_index, tensors):
    """fuzz_graph_coo's layout: int64, valid, tame flags; N <= 64, E <= 256."""
    _, (n, f), xblob = tensors["x"]
    dt, (_, e), eblob = tensors["edge_index"]
    fmt = "<%dq" % (2 * e) if dt == "I64" else "<%di" % (2 * e)
    idx = struct.unpack(fmt, eblob)
    n = min(n, 64)
    keep = [k for k in range(e) if idx[k] < n and idx[e + k] < n][:256]
    src = [idx[k] for k in keep]
    dst = [idx[e + k] for k in keep]
    out = bytes([model_index, 1 | 2 | 4, n - 1]) + struct.pack("<H", len(keep))
    out += struct.pack("<%dq" % (2 * len(keep)), *(src + dst))
    if "edge_attr" in tensors:
        _, (_, d), ablob = tensors["edge_attr"]
        out += b"".join(ablob[4 * d * k: 4 * d * (k + 1)] for k in keep)
    return out + xblob[: 4 * n * f]


def main():
    out = sys.argv[1]
    dirs = {t: os.path.join(out, t) for t in
            ("fuzz_model_buffer", "fuzz_io_reader", "fuzz_graph_coo", "fuzz_metadata",
             "fuzz_corr", "fuzz_program")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)

    def put(target, name, blob):
        with open(os.path.join(dirs[target], name), "wb") as f:
            f.write(blob)

    for entry in sorted(os.listdir(FIXTURES)):
        if not entry.endswith(".safetensors"):
            continue
        path = os.path.join(FIXTURES, entry)
        base = entry.split(".")[0]
        tensors, meta = read_st(path)
        if entry.endswith(".model.safetensors"):
            if meta and "graphkern" in meta:
                put("fuzz_metadata", base + ".json", meta["graphkern"].encode())
            if os.path.getsize(path) > MAX_SEED:
                continue
            put("fuzz_model_buffer", entry, open(path, "rb").read())
            for dtype in ("F64", "F16", "BF16"):
                put("fuzz_model_buffer", base + "." + dtype,
                    write_st(convert(tensors, dtype), meta))
            put("fuzz_model_buffer", base + ".pyg24", write_st(old_spelling(tensors), meta))
        elif entry.endswith(".io.safetensors"):
            if base in GRAPH_MODELS:
                put("fuzz_graph_coo", base + ".bin",
                    graph_seed(GRAPH_MODELS.index(base), tensors))
            if os.path.getsize(path) > MAX_SEED:
                continue
            put("fuzz_io_reader", entry, open(path, "rb").read())
            dt, shape, blob = tensors["edge_index"]
            if dt == "I64":
                vals = struct.unpack("<%dq" % (len(blob) // 8), blob)
                small = dict(tensors)
                small["edge_index"] = ("I32", shape, struct.pack("<%di" % len(vals), *vals))
                small.pop("y_pyg_f64", None)
                put("fuzz_io_reader", base + ".i32", write_st(small, meta))
    # fuzz_program: the whole-model fixtures' format-2 documents, byte 0 = which
    models = os.path.join(FIXTURES, "models")
    names = sorted(e[:-len(".model.safetensors")] for e in os.listdir(models)
                   if e.endswith(".model.safetensors"))
    for k, name in enumerate(names):
        _, meta = read_st(os.path.join(models, name + ".model.safetensors"))
        put("fuzz_program", name + ".json", bytes([k]) + meta["graphkern"].encode())
    # fuzz_corr: N, T, recompute period, top_k, flags, threshold, then ticks
    for n, t, k, flags, th in ((8, 6, 3, 0, 0), (12, 10, 4, 3, 120), (5, 4, 0, 2, 0),
                               (16, 16, 16, 1, 200)):
        ticks = b"".join(struct.pack("<%df" % n, *[0.01 * ((i * 7 + r * 13) % 17 - 8)
                                                   for i in range(n)])
                         for r in range(2 * t))
        put("fuzz_corr", "n%d_t%d_k%d" % (n, t, k), bytes([n - 2, t - 2, 2, k, flags, th]) + ticks)
    for t, d in dirs.items():
        print("%s: %d seeds" % (t, len(os.listdir(d))))


if __name__ == "__main__":
    main()
