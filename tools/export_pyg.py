#!/usr/bin/env python3
"""Write a graphkern model file (docs/model-format.md) from a PyG model.

A graphkern model is one safetensors file: the GATConv / GATv2Conv tensors
under PyG's own state_dict names, all F32, plus the layer list as a JSON
string in ``__metadata__["graphkern"]``. See docs/model-format.md.

Python API (stdlib only; torch and numpy are used when present, never needed):

    export_pyg(model, path, activations=None, metadata=None)
        model: a torch.nn.Module. Every submodule whose class is named GATConv
        or GATv2Conv becomes a layer, in ``model.named_modules()`` order; its
        architecture is read from the module's own attributes and its
        state_dict tensors are written under the module's name.
        activations: what follows each layer -- "elu", "relu", "leaky_relu"
        (slope 0.01) or "none". The exporter cannot see the model's forward(),
        so it takes them as a list (one per layer) or a dict {layer name:
        activation}. Default (None, or a layer missing from the dict): "elu"
        after every layer but the last, "none" after the last.

    export_state_dict(state_dict, layers, path, metadata=None, shapes=None)
        state_dict: {name: tensor, numpy array, nested list of numbers, or a
        flat list together with shapes[name]}. layers: the metadata layer list
        (dicts with at least name, type, in_channels, out_channels; missing
        keys get PyG's constructor defaults and the activation default above).
        Tensor shapes are checked against the layers before anything is
        written.

    metadata: optional extra {str: str} entries for ``__metadata__``
    (export_pyg adds "pyg_version" when torch_geometric is importable).

The model is assumed to run its layers one after the other on the same graph
(x -> conv1 -> act -> conv2 -> ...): skip connections or other modules in the
forward pass are not representable and cannot be detected here. Compare
``graphkern infer`` with PyG's output once after exporting.

Command line:
    python3 tools/export_pyg.py --check FILE   validate FILE, print its layers
    python3 tools/export_pyg.py --help
"""

import json
import math
import os
import struct
import sys

__all__ = ["export_pyg", "export_state_dict", "read_model", "check_model",
           "ModelFormatError", "ACTIVATIONS", "LAYER_TYPES"]

FORMAT_VERSION = 1
LAYER_TYPES = ("GATConv", "GATv2Conv")
ACTIVATIONS = ("elu", "relu", "leaky_relu", "none")
FILL_VALUES = ("mean", "add", "max", "min", "mul")
NAME_MAX = 63  # gk_layer.name is char[64]

# Metadata keys in the order they are written, with PyG's constructor
# defaults (None = required). share_weights is written for GATv2Conv only.
LAYER_KEYS = (
    ("name", None), ("type", None), ("in_channels", None),
    ("out_channels", None), ("heads", 1), ("concat", True),
    ("negative_slope", 0.2), ("add_self_loops", True),
    ("fill_value", "mean"), ("edge_dim", None), ("bias", True),
    ("residual", False), ("share_weights", False), ("activation", None),
)
REQUIRED_KEYS = ("name", "type", "in_channels", "out_channels")

DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4,
               "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
FLOAT_DTYPES = ("F32", "F16", "BF16", "F64")  # accepted for weights on load


class ModelFormatError(ValueError):
    """The model file, the layer list or a tensor is inconsistent."""


# --------------------------------------------------------------------------
# tensors -> (shape, little-endian float32 bytes)

def _nested_shape(value, name):
    shape = []
    v = value
    while isinstance(v, (list, tuple)):
        shape.append(len(v))
        if not v:
            break
        v = v[0]
    def walk(v, depth):
        if depth == len(shape):
            if isinstance(v, (list, tuple)):
                raise ModelFormatError("tensor %r: ragged nested list" % name)
            return
        if not isinstance(v, (list, tuple)) or len(v) != shape[depth]:
            raise ModelFormatError("tensor %r: ragged nested list" % name)
        for item in v:
            walk(item, depth + 1)
    walk(value, 0)
    return shape


def _flatten(value):
    if isinstance(value, (list, tuple)):
        out = []
        stack = [iter(value)]
        while stack:
            for item in stack[-1]:
                if isinstance(item, (list, tuple)):
                    stack.append(iter(item))
                    break
                out.append(item)
            else:
                stack.pop()
        return out
    return [value]


def _pack_f32(values, name):
    try:
        return struct.pack("<%df" % len(values), *[float(v) for v in values])
    except OverflowError:
        raise ModelFormatError("tensor %r: a value is outside float32 range"
                               % name) from None
    except (TypeError, ValueError) as e:
        raise ModelFormatError("tensor %r: not a number (%s)" % (name, e)) \
            from None


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _tensor_bytes(name, value, shape=None):
    """Return (shape, bytes) with the data as little-endian float32."""
    if hasattr(value, "detach"):  # torch.Tensor
        t = value.detach().cpu().float().contiguous()
        tshape = [int(d) for d in t.shape]
        data = None
        try:
            import numpy  # noqa: F401
            data = t.numpy().astype("<f4", copy=False).tobytes()
        except (ImportError, RuntimeError):  # no numpy, or torch built without
            data = _pack_f32(t.flatten().tolist(), name)
    elif hasattr(value, "tolist") and hasattr(value, "shape"):  # numpy
        tshape = [int(d) for d in value.shape]
        flat = value.tolist()
        data = _pack_f32(_flatten(flat), name)
    elif isinstance(value, (list, tuple)):
        tshape = _nested_shape(value, name)
        data = _pack_f32(_flatten(value), name)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        tshape = []
        data = _pack_f32([value], name)
    else:
        raise ModelFormatError("tensor %r: unsupported type %s"
                               % (name, type(value).__name__))
    if shape is not None:
        shape = [int(d) for d in shape]
        if any(d < 0 for d in shape) or _numel(shape) * 4 != len(data):
            raise ModelFormatError(
                "tensor %r: shape %s does not fit %d values"
                % (name, shape, len(data) // 4))
        tshape = shape
    elif _numel(tshape) * 4 != len(data):
        raise ModelFormatError("tensor %r: %d values for shape %s"
                               % (name, len(data) // 4, tshape))
    return tshape, data


# --------------------------------------------------------------------------
# layer metadata: defaults, checks, tensor shapes

def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _default_activation(index, count):
    return "none" if index == count - 1 else "elu"


def _did_you_mean(word, names):
    """' (did you mean 'x'?)' for a likely typo of one of names, as the C
    loader says it (src/core/did_you_mean.c: at most one edit per three letters)."""
    best = None
    for name in names:
        d = _edit_distance(word, name)
        if d <= max(1, len(name) // 3) and (best is None or d < best[0]):
            best = (d, name)
    return " (did you mean '%s'?)" % best[1] if best else ""


def _edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


TOP_KEYS = ("version", "layers")


def normalize_layers(layers):
    """Fill defaults, check types, return new dicts in canonical key order."""
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ModelFormatError("layers: expected a non-empty list")
    out = []
    seen = set()
    for i, layer in enumerate(layers):
        where = "layer %d" % i
        if not isinstance(layer, dict):
            raise ModelFormatError("%s: expected an object" % where)
        for key in REQUIRED_KEYS:
            if key not in layer:
                raise ModelFormatError("%s: missing %r" % (where, key))
        known = [k for k, _ in LAYER_KEYS]
        for key in layer:
            if key not in known:
                raise ModelFormatError("%s: unknown key %r%s"
                                       % (where, key, _did_you_mean(key, known)))
        name = layer["name"]
        if not isinstance(name, str) or not name or len(name.encode()) > NAME_MAX:
            raise ModelFormatError("%s: name must be a string of 1..%d bytes"
                                   % (where, NAME_MAX))
        where = "layer %r" % name
        if name in seen:
            raise ModelFormatError("%s: duplicate name" % where)
        seen.add(name)
        if layer["type"] not in LAYER_TYPES:
            raise ModelFormatError("%s: type %r is not one of %s"
                                   % (where, layer["type"], ", ".join(LAYER_TYPES)))
        norm = {}
        for key, default in LAYER_KEYS:
            if key == "share_weights" and layer["type"] != "GATv2Conv":
                if layer.get(key):
                    raise ModelFormatError("%s: share_weights is GATv2Conv only"
                                           % where)
                continue
            if key in layer:
                norm[key] = layer[key]
            elif key == "activation":
                norm[key] = _default_activation(i, len(layers))
            else:
                norm[key] = default
        for key in ("in_channels", "out_channels", "heads"):
            if not _is_int(norm[key]) or norm[key] < 1:
                raise ModelFormatError("%s: %s must be a positive integer"
                                       % (where, key))
        for key in ("concat", "add_self_loops", "bias", "residual",
                    "share_weights"):
            if key in norm and not isinstance(norm[key], bool):
                raise ModelFormatError("%s: %s must be true or false"
                                       % (where, key))
        if not _is_num(norm["negative_slope"]) or \
                not math.isfinite(norm["negative_slope"]):
            raise ModelFormatError("%s: negative_slope must be a finite number"
                                   % where)
        fv = norm["fill_value"]
        if not (fv in FILL_VALUES or (_is_num(fv) and math.isfinite(fv))):
            raise ModelFormatError("%s: fill_value must be one of %s or a number"
                                   % (where, ", ".join(FILL_VALUES)))
        ed = norm["edge_dim"]
        if ed is not None and (not _is_int(ed) or ed < 1):
            raise ModelFormatError("%s: edge_dim must be null or a positive "
                                   "integer" % where)
        if norm["activation"] not in ACTIVATIONS:
            raise ModelFormatError("%s: activation %r is not one of %s"
                                   % (where, norm["activation"],
                                      ", ".join(ACTIVATIONS)))
        out.append(norm)
    for prev, cur in zip(out, out[1:]):
        if out_width(prev) != cur["in_channels"]:
            raise ModelFormatError(
                "layer %r: in_channels %d but layer %r outputs %d"
                % (cur["name"], cur["in_channels"], prev["name"], out_width(prev)))
    dims = {l["edge_dim"] for l in out if l["edge_dim"] is not None}
    if len(dims) > 1:
        raise ModelFormatError("layers use different edge_dim values %s (all "
                               "layers see the same edge_attr)" % sorted(dims))
    return out


def out_width(layer):
    if layer["concat"]:
        return layer["heads"] * layer["out_channels"]
    return layer["out_channels"]


def expected_tensors(layer):
    """{suffix: (shape, required)} for one normalized layer.

    For GATConv, "lin.weight" stands for PyG >= 2.5; PyG <= 2.4 files carry
    lin_src.weight + lin_dst.weight instead (see check_tensors)."""
    F, C, H = layer["in_channels"], layer["out_channels"], layer["heads"]
    HC, W, D = H * C, out_width(layer), layer["edge_dim"]
    t = {}
    if layer["type"] == "GATConv":
        t["lin.weight"] = ([HC, F], True)
        t["att_src"] = ([1, H, C], True)
        t["att_dst"] = ([1, H, C], True)
        if D is not None:
            t["lin_edge.weight"] = ([HC, D], True)
            t["att_edge"] = ([1, H, C], True)
    else:
        for side in ("lin_l", "lin_r"):
            t[side + ".weight"] = ([HC, F], True)
            t[side + ".bias"] = ([HC], layer["bias"])
        t["att"] = ([1, H, C], True)
        if D is not None:
            t["lin_edge.weight"] = ([HC, D], True)
    if layer["bias"]:
        t["bias"] = ([W], True)
    if layer["residual"]:
        t["res.weight"] = ([W, F], True)
    return t


def check_tensors(layers, shapes, data=None):
    """Check every layer's tensors against its metadata.

    shapes: {tensor name: shape}; data (optional): {tensor name: bytes} to
    check that tied weights (share_weights, PyG <= 2.4 lin_src/lin_dst) match.
    Returns {layer name: [tensor names]}."""
    used = {}
    for layer in layers:
        p = layer["name"] + "."
        exp = expected_tensors(layer)
        if layer["type"] == "GATConv" and p + "lin.weight" not in shapes and \
                (p + "lin_src.weight" in shapes or p + "lin_dst.weight" in shapes):
            shp, req = exp.pop("lin.weight")
            exp["lin_src.weight"] = (shp, req)
            exp["lin_dst.weight"] = (shp, req)
        names = []
        for suffix, (shp, required) in exp.items():
            full = p + suffix
            if full not in shapes:
                if required:
                    raise ModelFormatError("layer %r: missing tensor %r"
                                           % (layer["name"], full))
                continue
            if list(shapes[full]) != shp:
                raise ModelFormatError("tensor %r: shape %s, expected %s"
                                       % (full, list(shapes[full]), shp))
            names.append(full)
        if data is not None:
            for a, b, why in (("lin_src.weight", "lin_dst.weight",
                               "PyG <= 2.4 lin_src/lin_dst must be equal"),
                              ("lin_l.weight", "lin_r.weight", "share_weights"),
                              ("lin_l.bias", "lin_r.bias", "share_weights")):
                if why == "share_weights" and not layer.get("share_weights"):
                    continue
                if p + a in data and p + b in data and data[p + a] != data[p + b]:
                    raise ModelFormatError("layer %r: %s and %s differ (%s)"
                                           % (layer["name"], a, b, why))
        used[layer["name"]] = names
    return used


# --------------------------------------------------------------------------
# writing

def _write_file(path, tensors, layers, metadata):
    """tensors: {name: (shape, bytes)}; layers already normalized."""
    meta = {"graphkern": json.dumps({"version": FORMAT_VERSION,
                                     "layers": layers})}
    for k, v in (metadata or {}).items():
        if k == "graphkern" or not isinstance(k, str) or not isinstance(v, str):
            raise ModelFormatError("metadata: %r must be a str -> str entry "
                                   "other than 'graphkern'" % (k,))
        meta[k] = v
    header = {"__metadata__": meta}
    offset = 0
    for name in sorted(tensors):
        shape, data = tensors[name]
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(hjson)))
            f.write(hjson)
            for name in sorted(tensors):
                f.write(tensors[name][1])
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_state_dict(state_dict, layers, path, metadata=None, shapes=None):
    """Write state_dict (tensors / arrays / nested lists) with the layer list.

    Every entry of state_dict is written; each layer's tensors are checked
    against its metadata first. Returns the normalized layer list."""
    norm = normalize_layers(layers)
    shapes = shapes or {}
    tensors = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name:
            raise ModelFormatError("tensor names must be non-empty strings")
        if name == "__metadata__":
            raise ModelFormatError("'__metadata__' is not a tensor name")
        tensors[name] = _tensor_bytes(name, value, shapes.get(name))
    check_tensors(norm, {k: v[0] for k, v in tensors.items()},
                  {k: v[1] for k, v in tensors.items()})
    _write_file(path, tensors, norm, metadata)
    return norm


def _scalar(v, what):
    if hasattr(v, "numel"):
        if v.numel() != 1:
            raise ModelFormatError("%s: only scalar tensors are supported" % what)
        return float(v.item())
    return v


def _layer_from_module(name, m, activation):
    t = type(m).__name__
    where = "module %r (%s)" % (name, t)
    if isinstance(m.in_channels, (tuple, list)):
        raise ModelFormatError("%s: bipartite in_channels %r is not supported"
                               % (where, m.in_channels))
    if int(m.in_channels) < 1:
        raise ModelFormatError("%s: in_channels=%r (lazy): run one forward pass "
                               "first" % (where, m.in_channels))
    fv = _scalar(m.fill_value, where + " fill_value")
    layer = {
        "name": name, "type": t,
        "in_channels": int(m.in_channels),
        "out_channels": int(m.out_channels),
        "heads": int(m.heads),
        "concat": bool(m.concat),
        "negative_slope": float(m.negative_slope),
        "add_self_loops": bool(m.add_self_loops),
        "fill_value": fv if isinstance(fv, str) else float(fv),
        "edge_dim": None if m.edge_dim is None else int(m.edge_dim),
        "bias": getattr(m, "bias", None) is not None,
        "residual": getattr(m, "res", None) is not None,
    }
    if t == "GATv2Conv":
        layer["share_weights"] = bool(getattr(m, "share_weights", False))
    layer["activation"] = activation
    return layer


def export_pyg(model, path, activations=None, metadata=None):
    """Export the GATConv/GATv2Conv layers of a PyG model; see module doc.

    Returns the layer list written."""
    convs = [(n, m) for n, m in model.named_modules()
             if type(m).__name__ in LAYER_TYPES]
    if not convs:
        raise ModelFormatError("model has no GATConv or GATv2Conv module")
    names = [n or "conv" for n, _ in convs]  # a bare conv has no name
    count = len(convs)
    if activations is None:
        acts = [_default_activation(i, count) for i in range(count)]
    elif isinstance(activations, dict):
        unknown = set(activations) - set(names)
        if unknown:
            raise ModelFormatError("activations: no layer named %s"
                                   % ", ".join(sorted(map(repr, unknown))))
        acts = [activations.get(n, _default_activation(i, count))
                for i, n in enumerate(names)]
    elif isinstance(activations, (list, tuple)):
        if len(activations) != count:
            raise ModelFormatError("activations: %d given for %d layers (%s)"
                                   % (len(activations), count, ", ".join(names)))
        acts = list(activations)
    else:
        raise ModelFormatError("activations: expected a list, a dict or None")
    layers, state = [], {}
    for (mname, m), name, act in zip(convs, names, acts):
        layers.append(_layer_from_module(name, m, act))
        for k, v in m.state_dict().items():
            state[name + "." + k] = v
    meta = {}
    try:
        import torch_geometric
        meta["pyg_version"] = str(torch_geometric.__version__)
    except Exception:
        pass
    meta.update(metadata or {})
    return export_state_dict(state, layers, path, metadata=meta)


# --------------------------------------------------------------------------
# reading / checking

def _unique_keys(pairs):
    """json.loads keeps the last of a repeated key; the C loader refuses it."""
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ModelFormatError("key %r appears twice in one object" % key)
        seen[key] = value
    return seen


def read_model(path):
    """Parse and validate a model file.

    Returns (header, layers, data) where header maps tensor names to their
    header entries, layers is the normalized layer list and data is the
    tensor data buffer. Raises ModelFormatError naming the problem."""
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise ModelFormatError(e.strerror or str(e)) from None
    if len(buf) < 8:
        raise ModelFormatError("truncated file: no header length")
    (hlen,) = struct.unpack("<Q", buf[:8])
    if hlen > len(buf) - 8:
        raise ModelFormatError("truncated file: header length %d, %d bytes "
                               "follow" % (hlen, len(buf) - 8))
    try:
        header = json.loads(buf[8:8 + hlen].decode("utf-8"),
                            object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError) as e:
        raise ModelFormatError("bad header JSON: %s" % e) from None
    if not isinstance(header, dict):
        raise ModelFormatError("bad header: not a JSON object")
    data = buf[8 + hlen:]
    meta = header.pop("__metadata__", None)
    spans = []
    for name, e in header.items():
        entry_keys = ("dtype", "shape", "data_offsets")
        if not isinstance(e, dict) or not set(entry_keys) <= set(e):
            raise ModelFormatError("tensor %r: bad header entry" % name)
        for key in e:
            if key not in entry_keys:
                raise ModelFormatError("tensor %r: unknown key %r%s"
                                       % (name, key, _did_you_mean(key, entry_keys)))
        if e["dtype"] not in DTYPE_SIZES:
            raise ModelFormatError("tensor %r: unknown dtype %r" % (name, e["dtype"]))
        shp, off = e["shape"], e["data_offsets"]
        if not isinstance(shp, list) or not all(_is_int(d) and d >= 0 for d in shp):
            raise ModelFormatError("tensor %r: bad shape" % name)
        if not (isinstance(off, list) and len(off) == 2 and
                all(_is_int(o) for o in off) and 0 <= off[0] <= off[1]):
            raise ModelFormatError("tensor %r: bad data_offsets" % name)
        if off[1] > len(data):
            raise ModelFormatError("tensor %r: data_offsets %s beyond the %d "
                                   "data bytes" % (name, off, len(data)))
        if off[1] - off[0] != _numel(shp) * DTYPE_SIZES[e["dtype"]]:
            raise ModelFormatError("tensor %r: %d bytes for %s %s"
                                   % (name, off[1] - off[0], e["dtype"], shp))
        spans.append((off[0], off[1], name))
    end = 0
    for start, stop, name in sorted(spans):
        if start < end:
            raise ModelFormatError("tensor %r: data overlaps another tensor" % name)
        if start > end:
            raise ModelFormatError("tensor %r: hole in the data before it" % name)
        end = stop
    if end != len(data):
        raise ModelFormatError("%d trailing bytes after the last tensor"
                               % (len(data) - end))
    if not isinstance(meta, dict) or "graphkern" not in meta:
        raise ModelFormatError('no __metadata__["graphkern"]')
    try:
        gk = json.loads(meta["graphkern"], object_pairs_hook=_unique_keys)
    except (TypeError, ValueError) as e:
        raise ModelFormatError('bad __metadata__["graphkern"] JSON: %s' % e) \
            from None
    if not isinstance(gk, dict) or gk.get("version") != FORMAT_VERSION:
        raise ModelFormatError('__metadata__["graphkern"]: version must be %d'
                               % FORMAT_VERSION)
    for key in gk:
        if key not in TOP_KEYS:
            raise ModelFormatError("metadata: unknown key %r%s"
                                   % (key, _did_you_mean(key, TOP_KEYS)))
    layers = normalize_layers(gk.get("layers"))
    for name, e in header.items():
        if any(name.startswith(l["name"] + ".") for l in layers) and \
                e["dtype"] not in FLOAT_DTYPES:
            raise ModelFormatError("tensor %r: dtype %s, expected a float type"
                                   % (name, e["dtype"]))
    tdata = {n: data[e["data_offsets"][0]:e["data_offsets"][1]]
             for n, e in header.items()}
    tdata = {n: b for n, b in tdata.items() if header[n]["dtype"] == "F32"}
    check_tensors(layers, {n: e["shape"] for n, e in header.items()}, tdata)
    return header, layers, data


def check_model(path, out=sys.stdout):
    header, layers, data = read_model(path)
    rows = [("layer", "type", "in", "heads x ch", "concat", "out", "edge_dim",
             "self_loops", "bias", "res", "act")]
    for l in layers:
        sl = "no" if not l["add_self_loops"] else "fill=%s" % l["fill_value"]
        rows.append((l["name"], l["type"] + (" (shared)" if l.get("share_weights") else ""),
                     str(l["in_channels"]),
                     "%dx%d" % (l["heads"], l["out_channels"]),
                     "yes" if l["concat"] else "mean", str(out_width(l)),
                     "-" if l["edge_dim"] is None else str(l["edge_dim"]), sl,
                     "yes" if l["bias"] else "no",
                     "yes" if l["residual"] else "no", l["activation"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
    dtypes = sorted({e["dtype"] for e in header.values()})
    out.write("%s: OK, %d layers, %d tensors (%s), %d data bytes\n"
              % (path, len(layers), len(header), "/".join(dtypes), len(data)))
    return layers


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(
        prog="export_pyg.py",
        description="graphkern model files from PyG models. Export from "
                    "Python: `from export_pyg import export_pyg; "
                    "export_pyg(model, 'model.safetensors', ['elu', 'none'])` "
                    "(see docs/model-format.md). On the command line, check an "
                    "existing file.")
    ap.add_argument("--check", metavar="FILE", required=True,
                    help="validate FILE (header, offsets, metadata, tensor "
                         "shapes) and print its layer table")
    args = ap.parse_args(argv)
    try:
        check_model(args.check)
    except ModelFormatError as e:
        sys.stderr.write("export_pyg: %s: %s\n" % (args.check, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
