"""graphkern.export: a PyTorch Geometric model, as written, to a graphkern
model file (format version 2: a graph of operations over named tensors).

    graphkern.export(model, (x, edge_index), "model.safetensors")
    fast = graphkern.compile(model, (x, edge_index), max_nodes=100, max_edges=1000)
    y = fast(x, edge_index)            # what model(x, edge_index) returns

The model's forward() is traced with torch.fx. PyG convs, nn.Linear, norms and
RNNs stay whole (leaves); functional and method calls are mapped one by one;
dropout and Identity disappear; BatchNorm folds into the Linear before it, or
becomes a per-channel scale and shift. Shapes are found by running the traced
graph twice on the example inputs, the second time on fewer nodes: a size that
follows the node count is written as "N", one that follows nothing is a
constant, anything else is refused. What cannot be represented raises
ExportError naming the module or function and the line of forward() that
called it; a file is only written when every step is exact. After writing,
the file is run through graphkern and compared with the model run in float64.

Needs torch (Debian: python3-torch) and torch_geometric for PyG models.
docs/model-format.md describes the file; docs/python.md the functions.
"""

import copy
import inspect
import json
import os
import re
import struct

import torch

from ._lower import _Lowering
from ._trace import PYG, ExportError, _input_roles, _Inputs, _Shapes, _trace
from .export_pyg import _tensor_bytes

FORMAT_VERSION = 2
TOLERANCE = 1e-5

__all__ = ["export", "compile", "ExportError", "Exported", "Compiled"]

# --------------------------------------------------------------------------
# clean-up passes: BatchNorm into the Linear before it, dead ops

def _uses(ops, outputs):
    count = {}
    for op in ops:
        for v in op["inputs"]:
            count[v] = count.get(v, 0) + 1
    for o in outputs:
        count[o["value"]] = count.get(o["value"], 0) + 1
    return count


def _fold_batch_norms(ops, tensors, outputs):
    uses = _uses(ops, outputs)
    producer = {op["outputs"][0]: op for op in ops}
    kept = []
    for op in ops:
        src = producer.get(op["inputs"][0]) if op["inputs"] else None
        if (op["op"] == "scale_shift" and src is not None and src["op"] == "linear"
                and uses[op["inputs"][0]] == 1 and len(op["shapes"][0]) == 2):
            scale, shift = tensors.pop(op["scale"]), tensors.pop(op["shift"])
            w = tensors[src["weight"]] * scale[:, None]
            b = tensors[src["bias"]] * scale + shift if src["bias"] else shift
            tensors[src["weight"]] = w
            bias_name = src["bias"] or src["weight"].rsplit(".", 1)[0] + ".bias"
            tensors[bias_name] = b
            src["bias"] = bias_name
            src["folded"] = op["name"]
            src["outputs"] = op["outputs"]
            continue
        kept.append(op)
    return kept


def _drop_dead(ops, outputs):
    live = {o["value"] for o in outputs}
    kept = []
    for op in reversed(ops):
        if any(o in live for o in op["outputs"]):
            kept.append(op)
            live.update(op["inputs"])
    return list(reversed(kept))


def _rename(ops, outputs, graph_inputs):
    """Values get short stable names: v0, v1, ... in op order."""
    names = {i["name"]: i["name"] for i in graph_inputs}
    k = 0
    for op in ops:
        for o in op["outputs"]:
            names[o] = "v%d" % k
            k += 1
    for op in ops:
        op["inputs"] = [names[v] for v in op["inputs"]]
        op["outputs"] = [names[v] for v in op["outputs"]]
    for o in outputs:
        o["value"] = names[o["value"]]


# --------------------------------------------------------------------------
# writing

def _write(path, tensors, doc):
    """The file's bytes (path is unused: _save writes them)."""
    header = {"__metadata__": {"graphkern": json.dumps(doc, separators=(",", ":"))}}
    try:
        import torch_geometric
        header["__metadata__"]["pyg_version"] = str(torch_geometric.__version__)
    except ImportError:
        pass
    blobs = {}
    offset = 0
    for name in sorted(tensors):
        shape, data = _tensor_bytes(name, tensors[name].to(torch.float32))
        blobs[name] = data
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(blobs[n] for n in sorted(tensors))


def _save(path, buf):
    tmp = "%s.tmp%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(buf)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# --------------------------------------------------------------------------
# the public functions

class Exported:
    """What export() made: the file's bytes, its inputs and outputs."""

    def __init__(self, data, doc, inputs, max_error):
        self.data, self.doc, self._inputs, self.max_error = data, doc, inputs, max_error

    @property
    def input_names(self):
        return [i["name"] for i in self.doc["inputs"]]

    @property
    def output_names(self):
        return [o["name"] for o in self.doc["outputs"]]


def _lower(model, example_inputs):
    inputs = _Inputs(model, example_inputs)
    gm, root = _trace(model, inputs)
    modules = dict(root.named_modules())
    convs = {k: m for k, m in modules.items() if PYG and isinstance(m, PYG["MessagePassing"])}
    roles = _input_roles(gm, inputs, convs)
    shapes = _Shapes(gm, inputs, roles)
    low = _Lowering(gm, root, model, inputs, roles, shapes)
    outputs = low.run()
    ops = _fold_batch_norms(low.ops, low.tensors, outputs)
    ops = _drop_dead(ops, outputs)
    _rename(ops, outputs, low.graph_inputs)
    used = set()
    for op in ops:
        for k in ("weight", "bias", "scale", "shift", "tensor"):
            if isinstance(op.get(k), str):
                used.add(op[k])
        used.update(op.get("tensors", {}).values())
        if op["op"] in ("GATConv", "GATv2Conv"):
            used.update(t for t in low.tensors if t.startswith(op["name"] + "."))
    tensors = {k: v for k, v in low.tensors.items() if k in used}
    order = {n: i for i, n in enumerate(inputs.tensors)}
    graph_inputs = sorted(low.graph_inputs, key=lambda i: order[i["name"]])
    doc = {"version": FORMAT_VERSION, "inputs": graph_inputs, "outputs": outputs, "ops": ops}
    if inputs.data_param:
        doc["forward"] = {"data": inputs.data_param}
    return doc, tensors, inputs


def _mask_as_float(t):
    return t.float() if t.dtype == torch.bool else t


def _reference(model, inputs):
    """The model's outputs in float64, as a list in output order."""
    m64 = copy.deepcopy(model).double().eval()
    t64 = {k: (v.double() if v.is_floating_point() else v) for k, v in inputs.tensors.items()}
    args, kwargs = inputs.call_args(t64)
    with torch.no_grad():
        out = m64(*args, **kwargs)
    if isinstance(out, dict):
        return list(out.values())
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _relative_error(got, ref):
    ref = ref.double()
    scale = max(1e-3, float(ref.abs().max())) if ref.numel() else 1.0
    return float((got.double() - ref).abs().max()) / scale if ref.numel() else 0.0


def export(model, example_inputs, path=None, *, check=True, tolerance=TOLERANCE):
    """Export `model` (an nn.Module, as the user has it) to `path`.

    example_inputs: what you would call model with: a tuple of positional
    arguments, a dict of keyword arguments, or a PyG Data object for
    forward(data). Optional arguments left out are fixed to their defaults.
    With check=True (the default) the file is run through graphkern on the
    example inputs and compared with the model run in float64; ExportError if
    an output differs by more than `tolerance` (relative to max(1e-3, max|y|)).
    Returns an Exported (bytes in .data); path=None writes no file."""
    training = model.training
    model.eval()
    try:
        doc, tensors, inputs = _lower(model, example_inputs)
        data = _write(None, tensors, doc)
        worst = _check(model, data, doc, inputs, tolerance) if check else None
    finally:
        model.train(training)
    if path is not None:   # only a file that reproduces the model
        _save(path, data)
    return Exported(data, doc, inputs, worst)


def _sizes(doc, inputs):
    """(nodes, largest edge count) of the example inputs."""
    kinds = {i["name"]: i["kind"] for i in doc["inputs"]}
    n = max([int(inputs.tensors[k].shape[0]) for k, v in kinds.items() if v == "nodes"] + [1])
    e = max([int(inputs.tensors[k].shape[1]) for k, v in kinds.items() if v == "edge_index"]
            + [1])
    return n, e


def _check(model, data, doc, inputs, tolerance):
    from . import Model
    gm = Model(data)
    n, e = _sizes(doc, inputs)
    plan = gm.plan(max_nodes=n, max_edges=e)
    got = plan.run({i["name"]: _mask_as_float(inputs.tensors[i["name"]]) for i in doc["inputs"]})
    ref = _reference(model, inputs)
    worst = 0.0
    for o, r in zip(doc["outputs"], ref):
        g = torch.from_numpy(got[o["name"]]) if not torch.is_tensor(got[o["name"]]) \
            else got[o["name"]]
        if tuple(g.shape) != tuple(r.shape):
            raise ExportError("output %r: graphkern gives shape %s, the model %s"
                              % (o["name"], list(g.shape), list(r.shape)))
        err = _relative_error(g, r)
        worst = max(worst, err)
        if not err <= tolerance:
            raise ExportError("output %r differs from the model run in float64 by %.3g "
                              "(relative; the limit is %g)" % (o["name"], err, tolerance))
    return worst


class Compiled:
    """A callable with the model's forward signature that runs graphkern.

    torch tensors in -> torch tensors out (sharing the output buffer),
    numpy in -> numpy out, a Data object in where forward takes data."""

    def __init__(self, exported, model_forward, max_nodes, max_edges, threads, **options):
        from . import Model
        self.exported = exported
        self.model = Model(exported.data)
        self.plan = self.model.plan(max_nodes=max_nodes, max_edges=max_edges,
                                    threads=threads, **options)
        self._signature = inspect.signature(model_forward)
        self._data_param = exported._inputs.data_param
        self._names = exported.input_names
        self._outputs = exported.output_names
        self._single = exported.doc["outputs"][0]["name"] == "y" and len(self._outputs) == 1
        self._kind = "dict" if not self._single and not all(
            re.fullmatch(r"y\d+", n) for n in self._outputs) else "tuple"
        params = list(self._signature.parameters)
        self._positions = [params.index(n) if n in params else 10 ** 9 for n in self._names]
        self._last_position = max(self._positions + [0])

    def __call__(self, *args, **kwargs):
        values = self._fast_values(args) if not kwargs else None
        if values is None:
            values = self._bound_values(args, kwargs)
        as_torch = False
        for k, v in values.items():
            if torch.is_tensor(v):
                as_torch = True
                values[k] = (v.float() if v.dtype == torch.bool else v).detach().contiguous().numpy()
            elif getattr(v, "dtype", None) is not None and str(v.dtype) == "bool":
                values[k] = v.astype("float32")
        out = self.plan._run(values)   # {name: (flat array, shape)}
        wrap = torch.from_numpy if as_torch else (lambda a: a)
        if self._single:
            flat, shape = out["y"]
            return wrap(flat.reshape(shape))
        res = {n: wrap(out[n][0].reshape(out[n][1])) for n in self._outputs}
        return tuple(res[n] for n in self._outputs) if self._kind == "tuple" else res

    def _fast_values(self, args):
        """Positional call of the inputs in forward's order (the common case)."""
        if self._data_param:
            if len(args) != 1:
                return None
            return {n: getattr(args[0], n) for n in self._names}
        if len(args) < self._last_position + 1:
            return None
        return {n: args[p] for n, p in zip(self._names, self._positions)}

    def _bound_values(self, args, kwargs):
        given = self._signature.bind(*args, **kwargs).arguments
        if self._data_param:
            data = given[self._data_param]
            values = {n: getattr(data, n, None) for n in self._names}
        else:
            values = {n: given.get(n) for n in self._names}
        missing = [n for n, v in values.items() if v is None]
        if missing:
            raise TypeError("missing input(s): %s" % ", ".join(missing))
        return values


def compile(model, example_inputs, max_nodes=None, max_edges=None, threads=1, **options):
    """Export `model` (checked, see export) and return a callable with its
    forward signature running graphkern: fast(x, edge_index) instead of
    model(x, edge_index). max_nodes / max_edges default to the example's."""
    exported = export(model, example_inputs, None)
    n, e = _sizes(exported.doc, exported._inputs)
    return Compiled(exported, model.forward, max_nodes or n, max_edges or e, threads,
                    **options)
