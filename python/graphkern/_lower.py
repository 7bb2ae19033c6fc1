"""graphkern.export, step 2: the traced graph's nodes (modules, functions,
methods) lowered to the ops of model format 2, with their weights and
symbolic shapes; whatever has no exact op raises ExportError with the
user's line. See _export.py and docs/model-format.md."""

import builtins
import math
import operator

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from ._trace import PYG, ExportError, _bind_call, _user_line
from .export_pyg import _layer_from_module
# --------------------------------------------------------------------------
# lowering: fx nodes -> graphkern ops

class _V:
    """A float32 tensor value of the op graph (or an integer input: indices
    only an embedding reads)."""

    integer = False

    def __init__(self, name, shape):
        self.name, self.shape = name, tuple(shape)


class _EdgeIndex:
    def __init__(self, name):
        self.name = name


class _EdgeAttr:
    def __init__(self, name, edge_index, shape):
        self.name, self.edge_index, self.shape = name, edge_index, tuple(shape)


class _ShapeOf:
    def __init__(self, shape):
        self.shape = shape


class _Dim:
    def __init__(self, value):
        self.value = value


_UNARY_MODULES = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
                  nn.SiLU: "silu"}
_UNARY_FUNCS = {torch.relu: "relu", F.relu: "relu", torch.sigmoid: "sigmoid",
                F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh", F.silu: "silu",
                torch.exp: "exp", torch.log: "log", torch.abs: "abs", torch.sqrt: "sqrt",
                torch.rsqrt: "rsqrt", operator.abs: "abs"}
_UNARY_METHODS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "exp": "exp",
                  "log": "log", "abs": "abs", "sqrt": "sqrt", "rsqrt": "rsqrt"}
_BINARY = {operator.add: "add", operator.sub: "sub", operator.mul: "mul",
           operator.truediv: "div", operator.pow: "pow", torch.add: "add", torch.sub: "sub",
           torch.mul: "mul", torch.div: "div", torch.pow: "pow", torch.maximum: "maximum",
           torch.minimum: "minimum", "add": "add", "sub": "sub", "mul": "mul",
           "div": "div", "pow": "pow", "maximum": "maximum", "minimum": "minimum",
           operator.iadd: "add", operator.isub: "sub", operator.imul: "mul",
           operator.itruediv: "div", "add_": "add", "mul_": "mul", "sub_": "sub",
           "div_": "div", "true_divide": "div", torch.true_divide: "div",
           operator.eq: "eq", operator.ne: "ne", operator.lt: "lt", operator.le: "le",
           operator.gt: "gt", operator.ge: "ge", torch.eq: "eq", torch.ne: "ne", torch.lt: "lt",
           torch.le: "le", torch.gt: "gt", torch.ge: "ge", "eq": "eq", "ne": "ne", "lt": "lt",
           "le": "le", "gt": "gt", "ge": "ge",
           operator.and_: "mul", torch.logical_and: "mul", "logical_and": "mul",
           operator.or_: "maximum", torch.logical_or: "maximum", "logical_or": "maximum"}
_COMPARE_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}
_RESHAPES = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "contiguous",
             "view_as", "reshape_as", torch.reshape, torch.flatten, torch.squeeze,
             torch.unsqueeze}
_IDENTITY_METHODS = {"float", "contiguous", "clone", "detach"}
_IDENTITY_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout, nn.Identity)
_IDENTITY_FUNCS = {F.dropout, F.alpha_dropout, F.dropout1d, F.dropout2d, torch.clone}
_REDUCTIONS = {torch.sum: "sum", torch.mean: "mean", torch.amax: "max", torch.amin: "min",
               "sum": "sum", "mean": "mean", "amax": "max", "amin": "min"}


class _Lowering:
    def __init__(self, gm, root, user_model, inputs, roles, shapes):
        self.gm, self.root, self.inputs, self.roles, self.shapes = gm, root, inputs, roles, shapes
        self.modules = dict(root.named_modules())
        prefix = "model." if root is not user_model else ""
        self.prefix = prefix
        self.ops = []
        self.tensors = {}
        self.env = {}
        self.graph_inputs = []
        self.node = None
        self.counter = 0

    # -- helpers --------------------------------------------------------
    def fail(self, what):
        where = _user_line(getattr(self.node, "stack_trace", None))
        raise ExportError("%s (called at %s)" % (what, where))

    def qual(self, target):
        name = target[len(self.prefix):] if target.startswith(self.prefix) else target
        return name

    def out_shape(self, node=None, index=None):
        sym = self.shapes.sym.get(node or self.node)
        if index is not None:
            sym = sym[index]
        if sym is None:
            self.fail("%s does not produce a tensor" % self.what())
        for d in sym:
            if isinstance(d, tuple):
                self.fail("%s: a dimension of size %d changes with the number of "
                          "nodes or edges in a way graphkern cannot represent (only "
                          "a whole-node dimension can)" % (self.what(), d[1]))
            if d == "E":
                self.fail("%s computes on edges: only the convs take edge tensors"
                          % self.what())
        return list(sym)

    def what(self):
        n = self.node
        if n.op == "call_module":
            return "module %r (%s)" % (self.qual(n.target), type(self.modules[n.target]).__name__)
        if n.op == "call_method":
            return "method .%s()" % n.target
        if n.op == "call_function":
            return "function %s" % getattr(n.target, "__name__", n.target)
        return n.op

    def fresh(self):
        self.counter += 1
        return "%s_%d" % (self.node.name if self.node is not None else "v", self.counter)

    def emit(self, op, inputs, shape, **attrs):
        name = self.fresh()
        entry = {"op": op, "inputs": [v.name for v in inputs], "outputs": [name],
                 "shapes": [list(shape)]}
        entry.update(attrs)
        self.ops.append(entry)
        return _V(name, shape)

    def tensor(self, name, value):
        value = value.detach().to(torch.float64)
        if not torch.isfinite(value).all():
            self.fail("%s: tensor %r has NaN or Inf" % (self.what(), name))
        if name in self.tensors:
            name = "%s#%d" % (name, len(self.tensors))
        self.tensors[name] = value
        return name

    def val(self, a, what="input", integer=False):
        v = self.env.get(a) if isinstance(a, fx.Node) else a
        if isinstance(v, _V) and v.integer != integer:
            self.fail("%s: the %s %s" % (self.what(), what, "holds integers: graphkern reads "
                                         "them only as embedding indices" if v.integer else
                                         "must be an integer input of forward() (indices)"))
        if not isinstance(v, _V):
            if isinstance(v, (_EdgeAttr, _EdgeIndex)):
                self.fail("%s: an edge tensor used as node data" % self.what())
            self.fail("%s: the %s is not a tensor graphkern computes" % (self.what(), what))
        return v

    def arg(self, a):
        if isinstance(a, fx.Node):
            return self.env.get(a)
        if isinstance(a, (tuple, list)):
            return type(a)(self.arg(x) for x in a)
        return a

    def dim(self, d, rank):
        d = int(d)
        if d < -rank or d >= rank:
            self.fail("%s: dim %d out of range for rank %d" % (self.what(), d, rank))
        return d + rank if d < 0 else d

    # -- the walk ---------------------------------------------------------
    def run(self):
        for node in self.gm.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                self.env[node] = self.placeholder(node)
            elif node.op == "get_attr":
                self.env[node] = self.get_attr(node)
            elif node.op == "call_module":
                self.env[node] = self.call_module(node)
            elif node.op == "call_function":
                self.env[node] = self.call_function(node)
            elif node.op == "call_method":
                self.env[node] = self.call_method(node)
            elif node.op == "output":
                return self.output(node)
        self.fail("the traced graph has no output")

    def placeholder(self, node):
        name = node.target
        if name in self.inputs.concrete:
            return self.inputs.concrete[name]
        if name not in self.inputs.tensors or not node.users:
            return None   # an argument forward() never reads is no input of the file
        t = self.inputs.tensors[name]
        role = self.roles.get(name)
        shape = self.shapes.sym[node]
        if role == "edge_index":
            self.graph_inputs.append({"name": name, "kind": "edge_index",
                                      "shape": [2, "E"], "dtype": "I64"})
            return _EdgeIndex(name)
        if isinstance(role, tuple):
            ei = role[1]
            self.graph_inputs.append({"name": name, "kind": "edges", "edge_index": ei,
                                      "shape": ["E"] + list(shape[1:]), "dtype": "F32"})
            return _EdgeAttr(name, ei, ["E"] + list(shape[1:]))
        integer = t.dtype in (torch.int64, torch.int32)
        if role == "unsupported" or not (t.is_floating_point() or t.dtype == torch.bool
                                         or integer):
            self.fail("input %r has dtype %s: graphkern takes float32 features, bool "
                      "masks (as float32 0/1), integer indices into an embedding and "
                      "integer edge_index" % (name, t.dtype))
        shape = self.out_shape(node)
        self.graph_inputs.append({"name": name, "kind": "nodes" if shape and shape[0] == "N"
                                  else "fixed", "shape": shape,
                                  "dtype": ("I64" if t.dtype == torch.int64 else "I32")
                                  if integer else "F32"})
        v = _V(name, shape)
        v.integer = integer
        return v

    def get_attr(self, node):
        obj = self.root
        for part in node.target.split("."):
            obj = getattr(obj, part)
        if not torch.is_tensor(obj):
            self.fail("attribute %r is not a tensor" % node.target)
        if obj.dim() == 0:
            return float(obj.item())
        return _Const(self.qual(node.target), obj)

    def output(self, node):
        result = self.arg(node.args[0])
        if isinstance(result, dict):
            items = list(result.items())
        elif isinstance(result, (tuple, list)):
            items = [("y%d" % i, v) for i, v in enumerate(result)]
        else:
            items = [("y", result)]
        outputs = []
        for name, v in items:
            v = self.materialize(v)
            if not isinstance(v, _V):
                self.fail("output %r is not a tensor graphkern computes" % name)
            if any(v.name == i["name"] for i in self.graph_inputs):
                v = self.emit("reshape", [v], v.shape)
            outputs.append({"name": str(name), "value": v.name, "shape": list(v.shape)})
        return outputs

    def materialize(self, v):
        if isinstance(v, _Const):
            return self.emit("constant", [], list(v.value.shape),
                             tensor=self.tensor(v.name, v.value))
        return v

    # -- modules ----------------------------------------------------------
    def call_module(self, node):
        m = self.modules[node.target]
        name = self.qual(node.target)
        args = [self.arg(a) for a in node.args]
        kwargs = {k: self.arg(v) for k, v in node.kwargs.items()}
        if isinstance(m, _IDENTITY_MODULES):
            return args[0] if args else kwargs.get("input")
        if PYG and isinstance(m, PYG["convs"]):
            return self.conv(m, name, node)
        if PYG and isinstance(m, PYG["MessagePassing"]):
            self.fail("%s is not supported: graphkern runs GATConv and GATv2Conv"
                      % self.what())
        x = self.materialize(args[0]) if args else None
        if isinstance(m, nn.Linear):
            return self.linear(self.val(x), m.weight, m.bias, name)
        if type(m) in _UNARY_MODULES:
            return self.emit(_UNARY_MODULES[type(m)], [self.val(x)], self.out_shape())
        if isinstance(m, nn.ELU):
            return self.emit("elu", [self.val(x)], self.out_shape(), alpha=float(m.alpha))
        if isinstance(m, nn.LeakyReLU):
            return self.emit("leaky_relu", [self.val(x)], self.out_shape(),
                             negative_slope=float(m.negative_slope))
        if isinstance(m, nn.GELU):
            return self.gelu(self.val(x), getattr(m, "approximate", "none"))
        if isinstance(m, nn.Softplus):
            return self.emit("softplus", [self.val(x)], self.out_shape(),
                             beta=float(m.beta), threshold=float(m.threshold))
        if isinstance(m, nn.PReLU):
            return self.prelu(x, _Const(name + ".weight", m.weight))
        if isinstance(m, (nn.ReLU6, nn.Hardtanh)):
            lo, hi = (0.0, 6.0) if isinstance(m, nn.ReLU6) else (m.min_val, m.max_val)
            return self.emit("clamp", [self.val(x)], self.out_shape(), min=float(lo),
                             max=float(hi))
        if isinstance(m, (nn.Softmax, nn.LogSoftmax)):
            v = self.val(x)
            if m.dim is None:
                self.fail("%s without dim is ambiguous" % self.what())
            return self.emit("softmax" if isinstance(m, nn.Softmax) else "log_softmax",
                             [v], self.out_shape(), dim=self.dim(m.dim, len(v.shape)))
        if isinstance(m, nn.Flatten):
            return self.emit("reshape", [self.val(x)], self.out_shape())
        if isinstance(m, nn.LayerNorm):
            return self.layer_norm(self.val(x), len(m.normalized_shape), m.weight, m.bias,
                                   m.eps, name)
        if PYG and isinstance(m, PYG["LayerNorm"]):
            return self.pyg_layer_norm(m, name, args, kwargs)
        if isinstance(m, nn.BatchNorm1d):
            return self.batch_norm(self.val(x), m, name)
        if PYG and isinstance(m, PYG["BatchNorm"]):
            return self.batch_norm(self.val(x), m.module, name)
        if isinstance(m, (nn.LSTM, nn.GRU)):
            return self.rnn(m, name, args, kwargs)
        if isinstance(m, (nn.GRUCell, nn.LSTMCell)):
            return self.rnn_cell(m, name, args, kwargs)
        if isinstance(m, nn.Embedding):
            if m.max_norm is not None:
                self.fail("%s: max_norm rewrites the table while it runs" % self.what())
            return self.embedding(args[0], m.weight, name)
        self.fail("%s is not supported by graphkern" % self.what())

    def linear(self, x, weight, bias, name):
        out = int(weight.shape[0])
        if x.shape[-1] != int(weight.shape[1]):
            self.fail("%s: input width %s, weight expects %d" % (self.what(), x.shape[-1],
                                                                 int(weight.shape[1])))
        attrs = {"name": name, "in_features": int(weight.shape[1]), "out_features": out,
                 "weight": self.tensor(name + ".weight", weight)}
        attrs["bias"] = self.tensor(name + ".bias", bias) if bias is not None else None
        return self.emit("linear", [x], list(x.shape[:-1]) + [out], **attrs)

    def embedding(self, idx, weight, name):
        x = self.val(idx, "index tensor", integer=True)
        num, dim = int(weight.shape[0]), int(weight.shape[1])
        return self.emit("embedding", [x], list(x.shape) + [dim], name=name,
                         num_embeddings=num, embedding_dim=dim,
                         weight=self.tensor(name + ".weight", weight))

    def gelu(self, x, approximate):
        if approximate not in ("none", "tanh"):
            self.fail("%s: approximate=%r" % (self.what(), approximate))
        return self.emit("gelu", [x], self.out_shape(), approximate=approximate)

    def layer_norm(self, x, k, weight, bias, eps, name):
        attrs = {"name": name, "dims": int(k), "eps": float(eps),
                 "weight": self.tensor(name + ".weight", weight) if weight is not None else None,
                 "bias": self.tensor(name + ".bias", bias) if bias is not None else None}
        return self.emit("layer_norm", [x], self.out_shape(), **attrs)

    def pyg_layer_norm(self, m, name, args, kwargs):
        b = _bind_call(m.forward, args, kwargs)
        if b.get("batch") is not None:
            self.fail("%s with a batch vector is not supported" % self.what())
        x = self.val(b["x"])
        if m.mode == "node":
            return self.layer_norm(x, 1, m.weight, m.bias, m.eps, name)
        attrs = {"name": name, "eps": float(m.eps),
                 "weight": self.tensor(name + ".weight", m.weight) if m.weight is not None else None,
                 "bias": self.tensor(name + ".bias", m.bias) if m.bias is not None else None}
        return self.emit("graph_layer_norm", [x], self.out_shape(), **attrs)

    def batch_norm(self, x, m, name):
        if m.running_mean is None or m.running_var is None:
            self.fail("%s has no running statistics (track_running_stats=False): its "
                      "eval output depends on the batch" % self.what())
        if len(x.shape) < 2:
            self.fail("%s on a 1-D tensor" % self.what())
        var = m.running_var.detach().double()
        scale = 1.0 / torch.sqrt(var + m.eps)
        if m.weight is not None:
            scale = scale * m.weight.detach().double()
        shift = -m.running_mean.detach().double() * scale
        if m.bias is not None:
            shift = shift + m.bias.detach().double()
        return self.emit("scale_shift", [x], self.out_shape(), name=name, dim=1,
                         scale=self.tensor(name + ".scale", scale),
                         shift=self.tensor(name + ".shift", shift))

    def conv(self, m, name, node):
        b = _bind_call(m.forward, node.args, node.kwargs)
        if b.get("return_attention_weights") is not None:
            self.fail("%s: return_attention_weights is not supported" % self.what())
        if b.get("size") is not None:
            self.fail("%s: size= (bipartite graphs) is not supported" % self.what())
        x = self.arg(b.get("x"))
        if isinstance(x, (tuple, list)):
            self.fail("%s: a (x_src, x_dst) pair is not supported" % self.what())
        x = self.val(self.materialize(x), "x")
        ei = self.arg(b.get("edge_index"))
        if not isinstance(ei, _EdgeIndex):
            self.fail("%s: edge_index must be an input of forward() (as given, or "
                      "through .long()/.to())" % self.what())
        ea = self.arg(b.get("edge_attr"))
        try:
            layer = _layer_from_module(name, m, "none")
        except ValueError as e:
            self.fail(str(e))
        entry = dict(layer)
        entry.pop("activation")
        if entry["edge_dim"] is None or ea is None:
            ea = None                      # PyG ignores edge_attr without edge_dim
            entry["edge_dim"] = None
        else:
            if not isinstance(ea, _EdgeAttr):
                self.fail("%s: edge_attr must be an input of forward()" % self.what())
            if ea.edge_index != ei.name:
                self.fail("%s: edge_attr %r belongs to %r, not %r" % (
                    self.what(), ea.name, ea.edge_index, ei.name))
            d = 1 if len(ea.shape) == 1 else ea.shape[-1]
            if len(ea.shape) > 2 or d != entry["edge_dim"]:
                self.fail("%s: edge_attr of shape %s for edge_dim %d" % (
                    self.what(), list(ea.shape), entry["edge_dim"]))
        if x.shape[-1] != entry["in_channels"] or len(x.shape) != 2 or x.shape[0] != "N":
            self.fail("%s: x of shape %s, expected [N, %d]" % (self.what(), list(x.shape),
                                                               entry["in_channels"]))
        skip = set()
        if entry["edge_dim"] is None:
            skip = {"lin_edge.weight", "att_edge", "lin_edge.bias"}
        for k, v in m.state_dict().items():
            if k not in skip:
                self.tensors[name + "." + k] = v.detach().to(torch.float64)
        entry["op"] = layer["type"]
        del entry["type"]
        width = entry["heads"] * entry["out_channels"] if entry["concat"] else entry["out_channels"]
        v = self.emit(entry.pop("op"), [x], ["N", width], edge_index=ei.name,
                      edge_attr=ea.name if ea else None, **entry)
        self.ops[-1]["op"] = layer["type"]
        return v

    def rnn(self, m, name, args, kwargs):
        x = self.val(args[0] if args else kwargs.get("input"))
        h0 = args[1] if len(args) > 1 else kwargs.get("hx")
        if h0 is not None:
            self.fail("%s: an initial state is not supported (zeros only)" % self.what())
        if getattr(m, "proj_size", 0):
            self.fail("%s: projected LSTMs (proj_size) are not supported" % self.what())
        if len(x.shape) != 3:
            self.fail("%s: input of rank %d (batched input of rank 3 only)" % (
                self.what(), len(x.shape)))
        kind = "lstm" if isinstance(m, nn.LSTM) else "gru"
        tensors = {}
        for k in range(m.num_layers):
            for suffix in ("", "_reverse") if m.bidirectional else ("",):
                for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    attr = "%s_l%d%s" % (part, k, suffix)
                    t = getattr(m, attr, None)
                    if t is not None:
                        tensors[attr] = self.tensor("%s.%s" % (name, attr), t)
        sym = self.shapes.sym[self.node]
        seq_shape = list(sym[0])
        h_shape = list(sym[1][0] if kind == "lstm" else sym[1])
        outputs = [self.fresh() for _ in range(3 if kind == "lstm" else 2)]
        shapes = [seq_shape, h_shape] + ([h_shape] if kind == "lstm" else [])
        self.ops.append({"op": kind, "name": name, "inputs": [x.name], "outputs": outputs,
                         "shapes": shapes, "input_size": m.input_size,
                         "hidden_size": m.hidden_size, "num_layers": m.num_layers,
                         "bias": bool(m.bias), "batch_first": bool(m.batch_first),
                         "bidirectional": bool(m.bidirectional), "tensors": tensors})
        vals = [_V(o, s) for o, s in zip(outputs, shapes)]
        return (vals[0], (vals[1], vals[2])) if kind == "lstm" else (vals[0], vals[1])

    def rnn_cell(self, m, name, args, kwargs):
        x = self.val(args[0] if args else kwargs.get("input"))
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        kind = "gru_cell" if isinstance(m, nn.GRUCell) else "lstm_cell"
        inputs = [x]
        if hx is not None:
            if kind == "lstm_cell":
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    self.fail("%s: hx must be (h, c)" % self.what())
                inputs += [self.val(hx[0], "h"), self.val(hx[1], "c")]
            else:
                inputs.append(self.val(hx, "h"))
        tensors = {}
        for part in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            t = getattr(m, part, None)
            if t is not None:
                tensors[part] = self.tensor("%s.%s" % (name, part), t)
        if len(x.shape) != 2:
            self.fail("%s: input of rank %d (rank 2 only)" % (self.what(), len(x.shape)))
        sym = self.shapes.sym[self.node]
        shape = list(sym[0] if kind == "lstm_cell" else sym)
        outputs = [self.fresh() for _ in range(2 if kind == "lstm_cell" else 1)]
        self.ops.append({"op": kind, "name": name, "inputs": [v.name for v in inputs],
                         "outputs": outputs, "shapes": [shape] * len(outputs),
                         "input_size": m.input_size, "hidden_size": m.hidden_size,
                         "bias": bool(m.bias), "tensors": tensors})
        vals = [_V(o, shape) for o in outputs]
        return (vals[0], vals[1]) if kind == "lstm_cell" else vals[0]

    # -- functions and methods ------------------------------------------
    def call_function(self, node):
        fn = node.target
        args = [self.arg(a) for a in node.args]
        kwargs = {k: self.arg(v) for k, v in node.kwargs.items()}
        name = getattr(fn, "__name__", "")
        if name == "_assert_is_none":
            return None
        if fn is builtins.getattr:
            return self.getattr_(args[0], args[1])
        if fn is operator.getitem:
            return self.getitem(args[0], args[1])
        if PYG and fn in PYG["pools"]:
            b = _bind_call(fn, node.args, node.kwargs)
            if b.get("batch") is not None:
                self.fail("%s with a batch vector is not supported (one graph per "
                          "call)" % self.what())
            x = self.val(self.arg(b["x"]))
            rank = len(x.shape)   # PyG: dim -1 for a vector, else -2; keepdim up to rank 2
            return self.emit(PYG["pools"][fn], [x], self.out_shape(),
                             dims=[rank - 1 if rank == 1 else rank - 2], keepdim=rank <= 2)
        return self.tensor_call(fn, args, kwargs)

    def call_method(self, node):
        args = [self.arg(a) for a in node.args]
        kwargs = {k: self.arg(v) for k, v in node.kwargs.items()}
        return self.tensor_call(node.target, args, kwargs)

    def getattr_(self, obj, attr):
        if attr == "shape":
            return _ShapeOf(self.shape_of(obj))
        if attr == "T" and isinstance(obj, _V):
            return self.emit("permute", [obj], self.out_shape(),
                             dims=list(reversed(range(len(obj.shape)))))
        if attr in ("values",) and isinstance(obj, tuple):
            return obj[0]
        if attr in ("data",):
            return obj
        if attr in ("x", "edge_index", "edge_attr") or obj is None:
            return getattr(obj, attr, None)
        self.fail("attribute .%s is not supported" % attr)

    def shape_of(self, obj):
        if isinstance(obj, (_V, _EdgeAttr)):
            return list(obj.shape)
        if isinstance(obj, _Const):
            return list(obj.value.shape)
        self.fail("%s: .shape of something that is not a tensor" % self.what())

    def getitem(self, obj, index):
        if isinstance(obj, (tuple, list)):
            if isinstance(index, slice):
                return obj[index]
            return obj[int(index)]
        if isinstance(obj, _ShapeOf):
            d = obj.shape[index]
            return _Dim(d) if not isinstance(d, list) else _ShapeOf(d)
        if isinstance(obj, _EdgeAttr):
            self.fail("indexing edge_attr is not supported; pass it to the conv as it is")
        obj = self.materialize(obj)
        x = self.val(obj)
        idx = index if isinstance(index, tuple) else (index,)
        if any(isinstance(i, (fx.Node, _V, _Dim)) or torch.is_tensor(i) for i in idx):
            self.fail("%s: indexing with a tensor is not supported" % self.what())
        if sum(i is Ellipsis for i in idx) > 1:
            self.fail("%s: more than one ..." % self.what())
        n_real = sum(1 for i in idx if i is not None and i is not Ellipsis)
        full = []
        for i in idx:
            if i is Ellipsis:
                full += [slice(None)] * (len(x.shape) - n_real)
            else:
                full.append(i)
        d = 0
        cur = x
        for i in full:
            if i is None:
                continue
            size = cur.shape[d]
            if isinstance(i, int):
                # on the node axis a negative index counts from the end at run time
                start = i + size if i < 0 and size != "N" else i
                if size != "N" and not 0 <= start < size:
                    self.fail("%s: index %d out of range" % (self.what(), i))
                shape = list(cur.shape)
                shape[d] = 1
                cur = self.emit("slice", [cur], shape, dim=d, start=start,
                                stop=start + 1 if start != -1 else None, step=1)
            elif isinstance(i, slice):
                if i == slice(None):
                    d += 1
                    continue
                if size == "N":
                    self.fail("%s: slicing the node axis is not supported" % self.what())
                start, stop, step = i.indices(size)
                if step <= 0:
                    self.fail("%s: a negative step" % self.what())
                shape = list(cur.shape)
                shape[d] = len(range(start, stop, step))
                cur = self.emit("slice", [cur], shape, dim=d, start=start, stop=stop,
                                step=step)
            else:
                self.fail("%s: index %r is not supported" % (self.what(), i))
            d += 1
        return self.emit("reshape", [cur], self.out_shape())

    def scalar(self, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return float(v)

    def tensor_call(self, fn, args, kwargs):
        if fn in _IDENTITY_FUNCS or fn in _IDENTITY_METHODS:
            return args[0]
        if fn in ("long", "int", "to") and isinstance(args[0], _EdgeIndex):
            return args[0]
        if fn == "to" or fn == "type":
            if isinstance(args[0], _V) and self.shapes.dtype.get(self.node) == torch.float32:
                return args[0]
            self.fail("%s: a dtype change graphkern does not make" % self.what())
        if fn in ("size", "dim"):
            obj = args[0]
            shape = self.shape_of(obj)
            if fn == "dim":
                return len(shape)
            d = args[1] if len(args) > 1 else kwargs.get("dim")
            return _ShapeOf(shape) if d is None else _Dim(shape[int(d)])
        if fn in _RESHAPES:
            x = args[0]
            if isinstance(x, _EdgeAttr):
                sym = self.shapes.sym[self.node]
                return _EdgeAttr(x.name, x.edge_index, sym)
            return self.emit("reshape", [self.val(self.materialize(x))], self.out_shape())
        if fn in ("expand", "expand_as", "repeat") or fn is torch.broadcast_to:
            if fn == "repeat":
                self.fail("%s is not supported" % self.what())
            return self.emit("expand", [self.val(args[0])], self.out_shape())
        if fn in _BINARY:
            return self.binary(_BINARY[fn], args, kwargs)
        if fn in (operator.invert, torch.logical_not, "logical_not", "bitwise_not"):
            return self.emit("logical_not", [self.val(args[0])], self.out_shape())
        if fn in ("masked_fill", torch.masked_fill, "masked_fill_"):
            return self.masked_fill(args[0], args[1], args[2])
        if fn is torch.where:
            return self.where(args, kwargs)
        if fn == "bool":   # a 0/1 mask stays one; anything else becomes x != 0
            return self.emit("scalar", [self.val(args[0])], self.out_shape(), fn="ne",
                             value=0.0)
        if fn in (operator.neg, torch.neg, "neg"):
            return self.emit("scalar", [self.val(args[0])], self.out_shape(), fn="mul",
                             value=-1.0)
        if fn in ("rsub", torch.rsub):
            return self.binary("sub", [args[1], args[0]], kwargs)
        if fn in _UNARY_FUNCS or fn in _UNARY_METHODS:
            kind = _UNARY_FUNCS.get(fn) if not isinstance(fn, str) else _UNARY_METHODS[fn]
            return self.emit(kind, [self.val(self.materialize(args[0]))], self.out_shape())
        if fn in (F.relu_, "relu_"):
            return self.emit("relu", [self.val(args[0])], self.out_shape())
        if fn in (torch.square, "square"):
            return self.emit("scalar", [self.val(args[0])], self.out_shape(), fn="pow",
                             value=2.0)
        if fn in (F.elu, "elu"):
            b = _kw(args, kwargs, ["input", "alpha"], {"alpha": 1.0})
            return self.emit("elu", [self.val(b["input"])], self.out_shape(),
                             alpha=float(b["alpha"]))
        if fn in (F.leaky_relu, "leaky_relu"):
            b = _kw(args, kwargs, ["input", "negative_slope"], {"negative_slope": 0.01})
            return self.emit("leaky_relu", [self.val(b["input"])], self.out_shape(),
                             negative_slope=float(b["negative_slope"]))
        if fn in (F.gelu, "gelu"):
            b = _kw(args, kwargs, ["input", "approximate"], {"approximate": "none"})
            return self.gelu(self.val(b["input"]), b["approximate"])
        if fn in (F.softplus, "softplus"):
            b = _kw(args, kwargs, ["input", "beta", "threshold"], {"beta": 1, "threshold": 20})
            return self.emit("softplus", [self.val(b["input"])], self.out_shape(),
                             beta=float(b["beta"]), threshold=float(b["threshold"]))
        if fn in (torch.clamp, torch.clip, "clamp", "clip", F.hardtanh, F.relu6, "clamp_min",
                  "clamp_max", torch.clamp_min, torch.clamp_max):
            return self.clamp(fn, args, kwargs)
        if fn in (torch.softmax, F.softmax, "softmax", torch.log_softmax, F.log_softmax,
                  "log_softmax"):
            b = _kw(args, kwargs, ["input", "dim"], {"dim": None, "_stacklevel": 3,
                                                     "dtype": None})
            x = self.val(b["input"])
            if b["dim"] is None:
                self.fail("%s without dim is ambiguous" % self.what())
            if b.get("dtype") is not None:
                self.fail("%s: dtype= is not supported" % self.what())
            kind = "log_softmax" if "log" in getattr(fn, "__name__", fn) else "softmax"
            return self.emit(kind, [x], self.out_shape(), dim=self.dim(b["dim"], len(x.shape)))
        if fn in _REDUCTIONS or fn in (torch.max, torch.min, "max", "min"):
            return self.reduction(fn, args, kwargs)
        if fn in (torch.std, torch.var, "std", "var"):
            return self.variance(fn, args, kwargs)
        if fn in (F.normalize, torch.norm, "norm", torch.linalg.vector_norm):
            return self.norm(fn, args, kwargs)
        if fn is F.prelu:
            return self.prelu(args[0], args[1])
        if fn in (torch.cat, torch.concat, torch.stack):
            return self.concat(fn, args, kwargs)
        if fn in (torch.transpose, "transpose", torch.permute, "permute", "t", torch.t):
            return self.permute(fn, args, kwargs)
        if fn in (operator.matmul, torch.matmul, torch.mm, "matmul", "mm"):
            return self.matmul(args)
        if fn is F.embedding:
            b = _kw(args, kwargs, ["input", "weight"], {"max_norm": None})
            if not isinstance(b["weight"], _Const) or b["max_norm"] is not None:
                self.fail("%s: the table must be a parameter, without max_norm" % self.what())
            return self.embedding(b["input"], b["weight"].value, b["weight"].name)
        if fn is F.linear:
            b = _kw(args, kwargs, ["input", "weight", "bias"], {"bias": None})
            w, bias = b["weight"], b["bias"]
            if not isinstance(w, _Const) or not (bias is None or isinstance(bias, _Const)):
                self.fail("%s: weights must be parameters of the model" % self.what())
            return self.linear(self.val(b["input"]), w.value,
                               bias.value if bias is not None else None, w.name)
        if fn is F.layer_norm:
            b = _kw(args, kwargs, ["input", "normalized_shape", "weight", "bias", "eps"],
                    {"weight": None, "bias": None, "eps": 1e-5})
            w, bias = b["weight"], b["bias"]
            for t in (w, bias):
                if t is not None and not isinstance(t, _Const):
                    self.fail("%s: weights must be parameters of the model" % self.what())
            ns = b["normalized_shape"]
            k = 1 if isinstance(ns, int) else len(ns)
            return self.layer_norm(self.val(b["input"]), k, w.value if w else None,
                                   bias.value if bias else None, b["eps"],
                                   (w or bias).name.rsplit(".", 1)[0] if (w or bias) else
                                   "layer_norm")
        self.fail("%s is not supported by graphkern" % self.what())

    def matmul(self, args):
        """x @ W with W a parameter of the model: a linear op without bias."""
        a, w = args[0], args[1]
        if not isinstance(w, _Const) or not isinstance(a, _V) or w.value.dim() not in (1, 2):
            self.fail("%s: only tensor @ a 1-D or 2-D parameter of the model is supported"
                      % self.what())
        weight = w.value.detach()
        weight = weight.reshape(1, -1) if weight.dim() == 1 else weight.t()
        v = self.linear(a, weight, None, w.name)
        return self.emit("reshape", [v], self.out_shape()) if w.value.dim() == 1 else v

    def fill_value(self, v):
        v = self.scalar(v)
        if v is None:
            self.fail("%s: the fill value must be a number" % self.what())
        return "inf" if v == math.inf else "-inf" if v == -math.inf else v

    def masked_fill(self, x, mask, value):
        return self.emit("masked_fill", [self.val(self.materialize(x)),
                                         self.val(self.materialize(mask), "mask")],
                         self.out_shape(), value=self.fill_value(value))

    def where(self, args, kwargs):
        b = _kw(args, kwargs, ["condition", "input", "other"], {})
        cond, a, o = b["condition"], b["input"], b["other"]
        sa, so = self.scalar(a), self.scalar(o)
        c = self.val(self.materialize(cond), "condition")
        if sa is not None and so is not None:   # b everywhere, then a where cond
            zeros = self.emit("scalar", [c], c.shape, fn="mul", value=0.0)
            other = self.emit("scalar", [zeros], c.shape, fn="add", value=self.fill_value(so))
            return self.emit("masked_fill", [other, c], self.out_shape(),
                             value=self.fill_value(sa))
        if sa is not None:   # a number where cond holds
            return self.emit("masked_fill", [self.val(self.materialize(o)), c],
                             self.out_shape(), value=self.fill_value(sa))
        if so is not None:   # a number where it does not
            notc = self.emit("logical_not", [c], c.shape)
            return self.emit("masked_fill", [self.val(self.materialize(a)), notc],
                             self.out_shape(), value=self.fill_value(so))
        return self.emit("where", [c, self.val(self.materialize(a)),
                                   self.val(self.materialize(o))], self.out_shape())

    def binary(self, kind, args, kwargs):
        a = args[0] if args else kwargs.get("input")
        b = args[1] if len(args) > 1 else kwargs.get("other", kwargs.get("exponent"))
        if kwargs.get("alpha") not in (None, 1):
            self.fail("%s: alpha= is not supported" % self.what())
        if kwargs.get("rounding_mode") is not None:
            self.fail("%s: rounding_mode= is not supported" % self.what())
        if isinstance(a, _Dim) or isinstance(b, _Dim):
            self.fail("%s: arithmetic with a tensor size (e.g. the node count) is not "
                      "supported" % self.what())
        sa, sb = self.scalar(a), self.scalar(b)
        if sa is not None and sb is not None:
            return {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
                    "div": operator.truediv, "pow": operator.pow, "maximum": max,
                    "minimum": min, "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
                    "le": operator.le, "gt": operator.gt, "ge": operator.ge}[kind](sa, sb)
        if sb is not None:
            if kind in ("maximum", "minimum"):
                self.fail("%s with a number" % self.what())
            return self.emit("scalar", [self.val(self.materialize(a))], self.out_shape(),
                             fn=kind, value=self.fill_value(sb))
        if sa is not None:
            rev = dict({"add": "add", "mul": "mul", "sub": "rsub", "div": "rdiv"},
                       **_COMPARE_FLIP)
            if kind not in rev:
                self.fail("%s: a number ** a tensor is not supported" % self.what())
            return self.emit("scalar", [self.val(self.materialize(b))], self.out_shape(),
                             fn=rev[kind], value=sa)
        va, vb = self.val(self.materialize(a)), self.val(self.materialize(b))
        return self.emit(kind, [va, vb], self.out_shape())

    def clamp(self, fn, args, kwargs):
        name = getattr(fn, "__name__", fn)
        x = self.val(args[0])
        if name == "relu6":
            lo, hi = 0.0, 6.0
        elif name == "hardtanh":
            b = _kw(args, kwargs, ["input", "min_val", "max_val"],
                    {"min_val": -1.0, "max_val": 1.0})
            lo, hi = b["min_val"], b["max_val"]
        elif name == "clamp_min":
            lo, hi = (args[1] if len(args) > 1 else kwargs.get("min")), None
        elif name == "clamp_max":
            lo, hi = None, (args[1] if len(args) > 1 else kwargs.get("max"))
        else:
            b = _kw(args, kwargs, ["input", "min", "max"], {"min": None, "max": None})
            lo, hi = b["min"], b["max"]
        for v in (lo, hi):
            if v is not None and self.scalar(v) is None:
                self.fail("%s: bounds must be numbers" % self.what())
        return self.emit("clamp", [x], self.out_shape(),
                         min=None if lo is None else float(lo),
                         max=None if hi is None else float(hi))

    def reduction(self, fn, args, kwargs):
        name = fn if isinstance(fn, str) else fn.__name__
        kind = {"sum": "sum", "mean": "mean", "amax": "max", "amin": "min", "max": "max",
                "min": "min"}[name]
        b = _kw(args, kwargs, ["input", "dim", "keepdim"], {"dim": None, "keepdim": False,
                                                           "dtype": None})
        x = self.val(self.materialize(b["input"]))
        if isinstance(b["dim"], _V):
            self.fail("%s of two tensors: use torch.maximum/minimum" % self.what())
        if b.get("dtype") is not None:
            self.fail("%s: dtype= is not supported" % self.what())
        rank = len(x.shape)
        dims = b["dim"]
        if dims is None:
            dims = list(range(rank))
        elif isinstance(dims, int):
            dims = [dims]
        dims = sorted({self.dim(d, rank) for d in dims})
        with_indices = kind in ("max", "min") and name in ("max", "min") and b["dim"] is not None
        sym = self.shapes.sym[self.node]
        shape = list(sym[0] if with_indices else sym)
        v = self.emit(kind, [x], shape, dims=dims, keepdim=bool(b["keepdim"]))
        return (v, None) if with_indices else v

    def variance(self, fn, args, kwargs):
        """std / var over dims, with PyTorch's correction (unbiased: 1)."""
        name = fn if isinstance(fn, str) else fn.__name__
        x = self.val(self.materialize(args[0]))
        rest = list(args[1:])
        dims, correction = kwargs.get("dim"), kwargs.get("correction")
        if "unbiased" in kwargs:
            correction = 1 if kwargs["unbiased"] else 0
        if rest and isinstance(rest[0], bool):      # x.std(unbiased)
            correction = 1 if rest.pop(0) else 0
        if rest:
            dims = rest.pop(0)
        if rest and isinstance(rest[0], bool) and correction is None:
            correction = 1 if rest.pop(0) else 0
        keepdim = kwargs.get("keepdim", rest[0] if rest else False)
        correction = 1 if correction is None else correction
        if correction not in (0, 1):
            self.fail("%s: correction=%r (0 or 1 only)" % (self.what(), correction))
        rank = len(x.shape)
        dims = list(range(rank)) if dims is None else [dims] if isinstance(dims, int) else dims
        dims = sorted({self.dim(d, rank) for d in dims})
        return self.emit("std" if name == "std" else "var", [x], self.out_shape(), dims=dims,
                         keepdim=bool(keepdim), correction=int(correction))

    def norm(self, fn, args, kwargs):
        """L2 (or L1) norms, and F.normalize = x / max(norm, eps), from the
        elementwise and reduction ops."""
        normalize = fn is F.normalize
        b = _kw(args, kwargs, ["input", "p", "dim"],
                {"p": 2.0, "dim": 1 if normalize else None, "eps": 1e-12, "keepdim": False,
                 "ord": None})
        p = b["ord"] if b.get("ord") is not None else b["p"]
        if p not in (1, 2, 1.0, 2.0, "fro"):
            self.fail("%s: p=%r (1 or 2 only)" % (self.what(), p))
        x = self.val(self.materialize(b["input"]))
        rank = len(x.shape)
        dims = b["dim"]
        dims = list(range(rank)) if dims is None else [dims] if isinstance(dims, int) else dims
        dims = sorted({self.dim(d, rank) for d in dims})
        keep = True if normalize else bool(b["keepdim"])
        kept = [1 if d in dims else n for d, n in enumerate(x.shape)]
        shape = kept if keep else [n for d, n in enumerate(x.shape) if d not in dims]
        if p in (1, 1.0):
            mag = self.emit("abs", [x], x.shape)
            total = self.emit("sum", [mag], shape, dims=dims, keepdim=keep)
        else:
            sq = self.emit("scalar", [x], x.shape, fn="pow", value=2.0)
            total = self.emit("sqrt", [self.emit("sum", [sq], shape, dims=dims, keepdim=keep)],
                              shape)
        if not normalize:
            return total
        denom = self.emit("clamp", [total], shape, min=float(b["eps"]), max=None)
        return self.emit("div", [x, denom], self.out_shape())

    def prelu(self, x, weight):
        """PReLU: x > 0 ? x : a·x, a one learnt slope or one per channel (dim 1)."""
        x = self.val(self.materialize(x))
        if not isinstance(weight, _Const):
            self.fail("%s: the slope must be a parameter of the model" % self.what())
        a = weight.value.detach()
        if a.numel() != 1 and (len(x.shape) < 2 or a.numel() != x.shape[1]):
            self.fail("%s: %d slopes for input %s" % (self.what(), a.numel(), list(x.shape)))
        if a.numel() == 1:
            scaled = self.emit("scalar", [x], x.shape, fn="mul", value=float(a.item()))
        else:   # per channel along dim 1: broadcast as [C, 1, ...]
            shape = [a.numel()] + [1] * (len(x.shape) - 2)
            slopes = self.emit("constant", [], shape, tensor=self.tensor(
                weight.name, a.reshape(shape)))
            scaled = self.emit("mul", [x, slopes], x.shape)
        positive = self.emit("scalar", [x], x.shape, fn="gt", value=0.0)
        return self.emit("where", [positive, x, scaled], self.out_shape())

    def concat(self, fn, args, kwargs):
        b = _kw(args, kwargs, ["tensors", "dim"], {"dim": 0})
        items = [self.val(self.materialize(t)) for t in b["tensors"]]
        if not items:
            self.fail("%s of nothing" % self.what())
        out = self.out_shape()
        d = self.dim(b["dim"], len(out))
        if fn is torch.stack:
            shape = list(items[0].shape)
            shape.insert(d, 1)
            items = [self.emit("reshape", [v], shape) for v in items]
        return self.emit("concat", items, out, dim=d)

    def permute(self, fn, args, kwargs):
        name = fn if isinstance(fn, str) else fn.__name__
        x = self.val(args[0])
        rank = len(x.shape)
        if name == "t":
            dims = list(reversed(range(rank)))
        elif name == "transpose":
            b = _kw(args, kwargs, ["input", "dim0", "dim1"], {})
            a, c = self.dim(b["dim0"], rank), self.dim(b["dim1"], rank)
            dims = list(range(rank))
            dims[a], dims[c] = dims[c], dims[a]
        else:
            dims = args[1:] if len(args) > 2 or (len(args) == 2 and isinstance(args[1], int)) \
                else (args[1] if len(args) > 1 else kwargs["dims"])
            dims = [self.dim(d, rank) for d in dims]
        return self.emit("permute", [x], self.out_shape(), dims=dims)


class _Const:
    """A model tensor used directly (a parameter or buffer)."""

    def __init__(self, name, value):
        self.name, self.value = name, value


def _kw(args, kwargs, names, defaults):
    out = dict(defaults)
    for n, a in zip(names, args):
        out[n] = a
    out.update(kwargs)
    for n in names:
        if n not in out:
            raise ExportError("missing argument %r" % n)
    return out
