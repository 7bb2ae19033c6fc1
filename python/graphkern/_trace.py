"""graphkern.export, step 1: trace forward() with torch.fx (PyG convs,
norms, Linear and RNNs kept whole), bind the example inputs to its
parameters, tell node inputs from edge inputs, and find which dimensions
follow the node count (two runs of the traced graph). See _export.py."""

import builtins
import contextlib
import io
import inspect
import os
import re

import torch
import torch.fx as fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

_HERE = os.path.dirname(os.path.abspath(__file__))   # frames here are not the user's


class ExportError(ValueError):
    """The model uses something graphkern cannot represent exactly, or the
    exported file does not reproduce it (the message says which and where)."""


# --------------------------------------------------------------------------
# PyG pieces, optional: a plain torch model exports without PyG

def _pyg():
    try:
        import torch_geometric.nn as pyg_nn
        from torch_geometric.nn import MessagePassing
        from torch_geometric.nn import norm as pyg_norm
    except ImportError:
        return None
    return {
        "MessagePassing": MessagePassing,
        "convs": (pyg_nn.GATConv, pyg_nn.GATv2Conv),
        "LayerNorm": pyg_norm.LayerNorm,
        "BatchNorm": pyg_norm.BatchNorm,
        "pools": {pyg_nn.global_mean_pool: "mean", pyg_nn.global_max_pool: "max",
                  pyg_nn.global_add_pool: "sum"},
    }


PYG = _pyg()


# --------------------------------------------------------------------------
# tracing

class _InputProxy(fx.Proxy):
    """An input while tracing: its fixed sizes are plain ints (a window
    length in `for t in range(x.size(1))`), the node or edge count stays
    symbolic (dim 1 of an integer [2, E] edge_index, dim 0 otherwise)."""

    def _example(self):
        return self.tracer.example_shapes[self.node.target]

    def _varies(self, d):
        shape, is_index = self._example()
        return d == (1 if is_index else 0)

    def size(self, dim=None):
        shape, _ = self._example()
        if dim is None:
            return self.shape
        d = dim + len(shape) if dim < 0 else dim
        if self._varies(d):
            return self.tracer.create_proxy("call_method", "size", (self, dim), {})
        return shape[d]

    @property
    def shape(self):
        shape, _ = self._example()
        whole = self.tracer.create_proxy("call_function", getattr, (self, "shape"), {})
        return tuple(whole[d] if self._varies(d) else n for d, n in enumerate(shape))

    def dim(self):
        return len(self._example()[0])


class _Tracer(fx.Tracer):
    """Keeps PyG convs, norms, Linear and RNNs whole; RNN outputs come back
    as the tuples forward() unpacks."""

    def __init__(self, example_shapes=None):
        pools = tuple(PYG["pools"]) if PYG else ()
        super().__init__(autowrap_functions=pools)
        self.record_stack_traces = True
        self.example_shapes = example_shapes or {}

    def proxy(self, node):
        if node.op == "placeholder" and node.target in self.example_shapes:
            return _InputProxy(node, self)
        return super().proxy(node)

    def is_leaf_module(self, m, qualname):
        if isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
            return False
        if PYG and isinstance(m, (PYG["MessagePassing"], PYG["LayerNorm"],
                                  PYG["BatchNorm"])):
            return True
        return super().is_leaf_module(m, qualname)

    def call_module(self, m, forward, args, kwargs):
        out = super().call_module(m, forward, args, kwargs)
        if isinstance(out, fx.Proxy):
            if isinstance(m, nn.LSTM):
                return out[0], (out[1][0], out[1][1])
            if isinstance(m, (nn.GRU, nn.RNN, nn.LSTMCell)):
                return out[0], out[1]
        return out


class _DataView:
    """What forward(data) sees while tracing: the Data attributes given, and
    None for the others, as PyG's Data answers."""

    def __init__(self, **attrs):
        self.__dict__.update(attrs)

    def __getattr__(self, name):
        if name == "num_nodes" and "x" in self.__dict__:
            return self.__dict__["x"].size(0)
        return None


def _user_line(stack_trace):
    """'file:line: code' of the innermost frame of the user's code."""
    if not stack_trace:
        return "an unknown line"
    # innermost first; frames of torch and of this package (the tracer's own
    # call_module) are not the user's
    for m in re.finditer(r'File "([^"]+)", line (\d+), in \S+\n\s*(.*)', stack_trace):
        if "/torch/" in m.group(1) or os.path.dirname(m.group(1)) == _HERE:
            continue
        return "%s:%s: %s" % (os.path.basename(m.group(1)), m.group(2), m.group(3).strip())
    return "an unknown line"


def _trace_error_line(exc):
    """The innermost frame of a traceback outside torch and graphkern."""
    tb = exc.__traceback__
    best = None
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if "/torch/" not in f and "graphkern" not in os.path.basename(os.path.dirname(f)) \
                and "<string>" not in f:
            best = tb
        tb = tb.tb_next
    if best is None:
        return "an unknown line"
    import linecache
    code = linecache.getline(best.tb_frame.f_code.co_filename, best.tb_lineno).strip()
    return "%s:%d: %s" % (os.path.basename(best.tb_frame.f_code.co_filename),
                          best.tb_lineno, code)


class _Inputs:
    """The example inputs bound to forward()'s parameters."""

    def __init__(self, model, example_inputs):
        sig = inspect.signature(model.forward)
        if isinstance(example_inputs, dict):
            args, kwargs = (), dict(example_inputs)
        elif isinstance(example_inputs, (tuple, list)):
            args, kwargs = tuple(example_inputs), {}
        else:
            args, kwargs = (example_inputs,), {}
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            raise ExportError("example_inputs do not fit forward%s: %s" % (sig, e)) from None
        self.signature = sig
        self.params = list(sig.parameters)
        self.data_param = None
        self.tensors = {}        # name -> example tensor, in call order
        self.concrete = {}       # forward parameter -> fixed Python value
        given = bound.arguments
        if len(given) == 1 and _is_data(next(iter(given.values()))):
            self.data_param = next(iter(given))
            data = given[self.data_param]
            for k, v in _data_items(data):
                if torch.is_tensor(v):
                    self.tensors[k] = v
            if not self.tensors:
                raise ExportError("the Data object holds no tensors")
            return
        for name, p in sig.parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                if name in given and given[name]:
                    raise ExportError("forward(*%s / **%s): variable arguments cannot be "
                                      "exported" % (name, name))
                continue
            if name in given:
                v = given[name]
                if torch.is_tensor(v):
                    self.tensors[name] = v
                else:
                    self.concrete[name] = v
            elif p.default is not inspect.Parameter.empty:
                self.concrete[name] = p.default
            else:
                raise ExportError("forward parameter %r has no example input" % name)

    def call_args(self, tensors):
        """Arguments for the model itself: (args, kwargs)."""
        if self.data_param:
            return (_make_data(tensors),), {}
        return (), dict(tensors, **{k: v for k, v in self.concrete.items()
                                     if k in self.params})


def _is_data(v):
    return hasattr(v, "to_dict") and hasattr(v, "keys") and not torch.is_tensor(v)


def _data_items(data):
    keys = data.keys() if callable(data.keys) else data.keys
    return [(k, data[k]) for k in keys]


def _make_data(tensors):
    from torch_geometric.data import Data
    return Data(**tensors)


def _trace(model, inputs):
    tracer = _Tracer({k: (tuple(int(d) for d in t.shape), not t.is_floating_point())
                      for k, t in inputs.tensors.items()})
    try:
        if inputs.data_param:
            names = list(inputs.tensors)
            src = ("def forward(self, %s):\n    return self.model(_DataView(%s))\n"
                   % (", ".join(names), ", ".join("%s=%s" % (n, n) for n in names)))
            ns = {"_DataView": _DataView}
            exec(builtins.compile(src, "<graphkern data wrapper>", "exec"), ns)
            wrapper = type("DataModel", (nn.Module,), {"forward": ns["forward"]})()
            wrapper.model = model
            root = wrapper
            graph = tracer.trace(wrapper)
        else:
            root = model
            graph = tracer.trace(model, concrete_args=dict(inputs.concrete) or None)
    except ExportError:
        raise
    except Exception as e:  # TraceError, TypeError from control flow, ...
        raise ExportError("forward() cannot be traced at %s: %s: %s"
                          % (_trace_error_line(e), type(e).__name__, e)) from None
    return fx.GraphModule(root, graph), root


# --------------------------------------------------------------------------
# shapes: which dimensions follow the node count

def _subset(inputs, roles, n_keep):
    """The example inputs restricted to the first n_keep nodes."""
    out = {}
    masks = {}
    for name, t in inputs.tensors.items():
        if roles.get(name) == "edge_index":
            keep = (t[0] < n_keep) & (t[1] < n_keep)
            masks[name] = keep
            out[name] = t[:, keep]
    for name, t in inputs.tensors.items():
        role = roles.get(name)
        if role == "nodes":
            out[name] = t[:n_keep]
        elif isinstance(role, tuple):      # ("edges", edge_index name)
            out[name] = t[masks[role[1]]]
        elif name not in out:
            out[name] = t
    return out


def _metas(gm, values):
    """node -> TensorMetadata (or nested tuples of them) for one run."""
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    args = [values[n.target] if n.target in values else None for n in placeholders]
    printed = io.StringIO()   # ShapeProp prints the model's own traceback, then
    try:                      # raises an error that names only the fx node
        with torch.no_grad(), contextlib.redirect_stderr(printed):
            ShapeProp(gm).propagate(*args)
    except Exception as e:
        lines = [ln for ln in printed.getvalue().splitlines() if ln.strip()]
        cause = lines[-1] if lines else "%s: %s" % (type(e).__name__, str(e).split("\n")[0])
        raise ExportError("the model fails on the example inputs: %s" % cause) from None
    return {n: n.meta.get("tensor_meta") for n in gm.graph.nodes}


def _shape_of(meta):
    if meta is None:
        return None
    if hasattr(meta, "shape") and hasattr(meta, "dtype"):
        return tuple(int(d) for d in meta.shape)
    if isinstance(meta, (tuple, list)):
        return tuple(_shape_of(m) for m in meta)
    return tuple(int(d) for d in meta.shape)


class _Shapes:
    """Symbolic shapes: each dim an int or "N" (the node count)."""

    def __init__(self, gm, inputs, roles):
        self.n = _node_count(inputs, roles)
        first = _metas(gm, dict(inputs.tensors, **inputs.concrete))
        self.meta = dict(first)
        self.dtype = {k: getattr(m, "dtype", None) for k, m in first.items()}
        n2 = self.n - max(1, self.n // 4) if self.n and self.n > 2 else None
        second = None
        if n2:
            try:
                second = _metas(gm, dict(_subset(inputs, roles, n2), **inputs.concrete))
            except ExportError as e:
                raise ExportError(
                    "the model runs on the example's %d nodes but not on %d (%s): graphkern "
                    "runs models whose sizes follow the node count, so that any graph up to "
                    "max_nodes fits; a parameter or buffer with one row per asset (a fixed "
                    "universe) ties the model to one N" % (self.n, n2,
                                                           str(e).split(": ", 1)[-1])) from None
        self.edge_counts = {name: (int(inputs.tensors[name].shape[1]),
                                   int(_subset(inputs, roles, n2)[name].shape[1]) if n2 else None)
                            for name, r in roles.items() if r == "edge_index"}
        self.sym = {}
        for node, m in first.items():
            a = _shape_of(m)
            b = _shape_of(second[node]) if second else a
            self.sym[node] = self._symbolic(node, a, b, n2)

    def _symbolic(self, node, a, b, n2):
        if a is None:
            return None
        if any(isinstance(x, tuple) for x in a):
            return tuple(self._symbolic(node, x, y, n2) for x, y in zip(a, b))
        out = []
        for da, db in zip(a, b):
            if da == db:
                out.append(da)
            elif da == self.n and db == n2:
                out.append("N")
            elif any(da == e1 and db == e2 for e1, e2 in self.edge_counts.values()):
                out.append("E")
            else:
                out.append(("?", da))
        return tuple(out)


def _node_count(inputs, roles):
    for name, t in inputs.tensors.items():
        if roles.get(name) == "nodes":
            return int(t.shape[0])
    return None


def _input_roles(gm, inputs, convs):
    """edge_index / ("edges", edge_index) / nodes / fixed, by use and shape."""
    roles = {}
    placeholders = {n.target: n for n in gm.graph.nodes if n.op == "placeholder"}
    # edge inputs: whatever reaches a conv's edge_index / edge_attr argument
    for node in gm.graph.nodes:
        if node.op != "call_module" or node.target not in convs:
            continue
        bound = _bind_call(convs[node.target].forward, node.args, node.kwargs)
        ei = _origin(bound.get("edge_index"))
        ea = _origin(bound.get("edge_attr"))
        if ei is not None and ei.op == "placeholder":
            roles[ei.target] = "edge_index"
            if ea is not None and ea.op == "placeholder":
                roles[ea.target] = ("edges", ei.target)
    n = None
    for name, t in inputs.tensors.items():
        if name in roles:
            continue
        if t.dtype in (torch.int64, torch.int32) and t.dim() == 2 and t.shape[0] == 2:
            roles[name] = "edge_index"
    for name, t in inputs.tensors.items():
        if name in roles:
            continue
        if not (t.is_floating_point() or t.dtype in (torch.bool, torch.int64, torch.int32)):
            roles[name] = "unsupported"
        elif t.dim() >= 1 and (n is None or t.shape[0] == n):
            n = int(t.shape[0]) if n is None else n
            roles[name] = "nodes"
        else:
            roles[name] = "fixed"
    return {k: v for k, v in roles.items() if k in placeholders or k in inputs.tensors}


def _origin(arg):
    """The node an edge argument comes from, through aliasing methods."""
    while isinstance(arg, fx.Node) and arg.op in ("call_method", "call_function") and \
            (arg.target in ("view", "reshape", "unsqueeze", "long", "int", "to",
                            "contiguous", "float", "squeeze", "flatten")
             or arg.target in (torch.reshape, torch.unsqueeze, torch.flatten, torch.squeeze)):
        arg = arg.args[0]
    return arg if isinstance(arg, fx.Node) else None


def _bind_call(fn, args, kwargs):
    try:
        b = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError:
        return {}
    b.apply_defaults()
    return dict(b.arguments)
