#!/usr/bin/env python3
"""Tests for tools/export_pyg.py. Stdlib only; the PyG test runs only when
torch and torch_geometric import.

    python3 tests/test_export_pyg.py        (or: ctest -R test_export_pyg)
"""

import glob
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOL = os.path.join(ROOT, "tools", "export_pyg.py")
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import export_pyg as ex  # noqa: E402

try:
    import torch
    import torch_geometric  # noqa: F401
    from torch_geometric.nn import GATConv as PygGATConv, GATv2Conv as PygGATv2Conv
    HAVE_PYG = True
except Exception:  # ImportError, or a broken install
    HAVE_PYG = False


# ---- an independent minimal safetensors reader ---------------------------

def parse(path):
    """Return (raw header bytes, metadata dict, {name: (dtype, shape, bytes)},
    [names in data order]), asserting the layout rules on the way."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    raw = buf[8:8 + n]
    assert len(raw) == n, "truncated header"
    header = json.loads(raw.decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = buf[8 + n:]
    tensors = {}
    for name, e in header.items():
        b0, b1 = e["data_offsets"]
        tensors[name] = (e["dtype"], e["shape"], data[b0:b1])
    order = sorted(header, key=lambda k: header[k]["data_offsets"][0])
    end = 0
    for name in order:
        b0, b1 = header[name]["data_offsets"]
        assert b0 == end, "offsets not contiguous at %s" % name
        end = b1
    assert end == len(data), "data size mismatch"
    return raw, meta, tensors, order


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def unf32(b):
    return list(struct.unpack("<%df" % (len(b) // 4), b))


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class Gen:
    """Deterministic values; most exactly representable, a few not."""

    def __init__(self):
        self.i = 0

    def flat(self, n):
        out = []
        for _ in range(n):
            self.i += 1
            v = ((self.i * 37) % 23 - 11) / 16.0
            if self.i % 5 == 0:
                v += 0.1  # not representable: exercises float32 rounding
            out.append(v)
        return out

    def nested(self, shape):
        vals = self.flat(numel(shape))
        def build(dims, vals):
            if not dims:
                return vals.pop(0)
            return [build(dims[1:], vals) for _ in range(dims[0])]
        return build(list(shape), vals) if shape else vals[0]


def flatten(v):
    if isinstance(v, list):
        return [x for item in v for x in flatten(item)]
    return [v]


def gat_layers():
    return [
        {"name": "conv1", "type": "GATConv", "in_channels": 6,
         "out_channels": 4, "heads": 3, "concat": True},
        {"name": "conv2", "type": "GATConv", "in_channels": 12,
         "out_channels": 2, "heads": 2, "concat": False, "residual": True,
         "fill_value": "add", "negative_slope": 0.1},
    ]


def gat_state(gen):
    sd = {}
    for p, F, H, C, W, res in (("conv1", 6, 3, 4, 12, False),
                               ("conv2", 12, 2, 2, 2, True)):
        sd[p + ".lin.weight"] = gen.nested([H * C, F])
        sd[p + ".att_src"] = gen.nested([1, H, C])
        sd[p + ".att_dst"] = gen.nested([1, H, C])
        sd[p + ".bias"] = gen.nested([W])
        if res:
            sd[p + ".res.weight"] = gen.nested([W, F])
    return sd


def gatv2_layers():
    return [
        {"name": "enc.0", "type": "GATv2Conv", "in_channels": 5,
         "out_channels": 3, "heads": 2, "edge_dim": 2},
        {"name": "enc.1", "type": "GATv2Conv", "in_channels": 6,
         "out_channels": 4, "heads": 2, "concat": False, "edge_dim": 2,
         "share_weights": True, "activation": "relu"},
    ]


def gatv2_state(gen):
    sd = {}
    for p, F, H, C, W, shared in (("enc.0", 5, 2, 3, 6, False),
                                  ("enc.1", 6, 2, 4, 4, True)):
        sd[p + ".lin_l.weight"] = gen.nested([H * C, F])
        sd[p + ".lin_l.bias"] = gen.nested([H * C])
        if shared:
            sd[p + ".lin_r.weight"] = sd[p + ".lin_l.weight"]
            sd[p + ".lin_r.bias"] = sd[p + ".lin_l.bias"]
        else:
            sd[p + ".lin_r.weight"] = gen.nested([H * C, F])
            sd[p + ".lin_r.bias"] = gen.nested([H * C])
        sd[p + ".att"] = gen.nested([1, H, C])
        sd[p + ".lin_edge.weight"] = gen.nested([H * C, 2])
        sd[p + ".bias"] = gen.nested([W])
    return sd


GAT_DEFAULTS = {"heads": 1, "concat": True, "negative_slope": 0.2,
                "add_self_loops": True, "fill_value": "mean",
                "edge_dim": None, "bias": True, "residual": False}


def with_defaults(layers):
    out = []
    for i, l in enumerate(layers):
        d = dict(GAT_DEFAULTS)
        if l["type"] == "GATv2Conv":
            d["share_weights"] = False
        d["activation"] = "none" if i == len(layers) - 1 else "elu"
        d.update(l)
        out.append(d)
    return out


class TmpDir(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def check_layout(self, path, state, layers):
        raw, meta, tensors, order = parse(path)
        # header: JSON object padded with spaces to a multiple of 8
        self.assertEqual(len(raw) % 8, 0)
        self.assertTrue(raw.startswith(b"{"))
        self.assertEqual(raw.rstrip(b" ").rstrip()[-1:], b"}")
        self.assertLess(len(raw) - len(raw.rstrip(b" ")), 8)
        # data in name order, every tensor written, F32, shape and bytes
        self.assertEqual(order, sorted(state))
        self.assertEqual(sorted(tensors), sorted(state))
        for name, value in state.items():
            dtype, shape, b = tensors[name]
            self.assertEqual(dtype, "F32", name)
            if isinstance(value, list):
                self.assertEqual(shape, shape_of(value), name)
                flat = flatten(value)
                self.assertEqual(b, f32(flat), name)
                # exact values survive; the others round to nearest float32
                for got, want in zip(unf32(b), flat):
                    if want * 16 == int(want * 16):
                        self.assertEqual(got, want)
                    else:
                        self.assertAlmostEqual(got, want, delta=abs(want) * 2**-23)
        gk = json.loads(meta["graphkern"])
        self.assertEqual(gk, {"version": 1, "layers": with_defaults(layers)})
        return raw, meta, tensors


def shape_of(v):
    s = []
    while isinstance(v, list):
        s.append(len(v))
        v = v[0]
    return s


class ExportStateDictTest(TmpDir):
    def test_gatconv_two_layers(self):
        sd = gat_state(Gen())
        path = self.path("gat.safetensors")
        ex.export_state_dict(sd, gat_layers(), path)
        raw, meta, _ = self.check_layout(path, sd, gat_layers())
        self.assertEqual(sorted(meta), ["graphkern"])
        # key order in the layer objects is the documented one
        keys = list(json.loads(meta["graphkern"])["layers"][0])
        self.assertEqual(keys, ["name", "type", "in_channels", "out_channels",
                                "heads", "concat", "negative_slope",
                                "add_self_loops", "fill_value", "edge_dim",
                                "bias", "residual", "activation"])
        # --check accepts it
        r = subprocess.run([sys.executable, TOOL, "--check", path],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("conv2", r.stdout)
        self.assertIn("OK, 2 layers, 9 tensors", r.stdout)

    def test_gatv2_two_layers_flat_lists_with_shapes(self):
        sd = gatv2_state(Gen())
        path = self.path("v2.safetensors")
        # give one tensor as a flat list plus its shape
        flat_sd = dict(sd)
        flat_sd["enc.0.att"] = flatten(sd["enc.0.att"])
        ex.export_state_dict(flat_sd, gatv2_layers(), path,
                             metadata={"note": "unit test"},
                             shapes={"enc.0.att": [1, 2, 3]})
        raw, meta, _ = self.check_layout(path, sd, gatv2_layers())
        self.assertEqual(meta["note"], "unit test")
        layers = json.loads(meta["graphkern"])["layers"]
        self.assertEqual([l["share_weights"] for l in layers], [False, True])
        self.assertEqual([l["activation"] for l in layers], ["elu", "relu"])

    def test_pyg_le_2_4_spelling(self):
        layers = [{"name": "c", "type": "GATConv", "in_channels": 3,
                   "out_channels": 2}]
        g = Gen()
        w = g.nested([2, 3])
        sd = {"c.lin_src.weight": w, "c.lin_dst.weight": w,
              "c.att_src": g.nested([1, 1, 2]), "c.att_dst": g.nested([1, 1, 2]),
              "c.bias": g.nested([2])}
        path = self.path("old.safetensors")
        ex.export_state_dict(sd, layers, path)
        self.check_layout(path, sd, layers)
        sd["c.lin_dst.weight"] = g.nested([2, 3])
        with self.assertRaisesRegex(ex.ModelFormatError, "differ"):
            ex.export_state_dict(sd, layers, path)

    def test_errors_name_the_problem_and_write_nothing(self):
        path = self.path("bad.safetensors")
        cases = []
        sd = gat_state(Gen())
        del sd["conv2.att_dst"]
        cases.append((sd, gat_layers(), "missing tensor 'conv2.att_dst'"))
        sd = gat_state(Gen())
        sd["conv1.bias"] = Gen().nested([11])
        cases.append((sd, gat_layers(), r"'conv1.bias': shape \[11\]"))
        sd = gat_state(Gen())
        sd["conv1.bias"] = [1.0, [2.0]] + [0.0] * 10
        cases.append((sd, gat_layers(), "ragged"))
        sd = gat_state(Gen())
        sd["conv1.bias"] = [1e39] * 12
        cases.append((sd, gat_layers(), "float32 range"))
        layers = gat_layers()
        layers[1]["activation"] = "gelu"
        cases.append((gat_state(Gen()), layers, "activation 'gelu'"))
        layers = gat_layers()
        layers[1]["in_channels"] = 13
        cases.append((gat_state(Gen()), layers, "in_channels 13"))
        layers = gat_layers()
        layers[0]["heads"] = True
        cases.append((gat_state(Gen()), layers, "heads must be"))
        layers = gat_layers()
        layers[0]["dropout"] = 0.5
        cases.append((gat_state(Gen()), layers, "unknown key 'dropout'"))
        layers = gat_layers()
        del layers[0]["in_channels"]
        cases.append((gat_state(Gen()), layers, "missing 'in_channels'"))
        layers = gat_layers()
        layers[1]["name"] = "conv1"
        cases.append((gat_state(Gen()), layers, "duplicate"))
        sd = gatv2_state(Gen())
        sd["enc.1.lin_r.bias"] = [0.5] * 8
        cases.append((sd, gatv2_layers(), "share_weights"))
        for sd, layers, msg in cases:
            with self.subTest(msg=msg):
                with self.assertRaisesRegex(ex.ModelFormatError, msg):
                    ex.export_state_dict(sd, layers, path)
                self.assertFalse(os.path.exists(path))
                self.assertEqual(os.listdir(self.tmp), [])


class FakeTensor:
    """Duck-types the torch.Tensor calls the exporter makes."""

    def __init__(self, nested):
        self.v = nested
        self.shape = tuple(shape_of(nested))

    def detach(self):
        return self

    cpu = float = contiguous = detach

    def numpy(self):
        raise RuntimeError("Numpy is not available")  # what torch says

    def flatten(self):
        return FakeTensor(flatten(self.v))

    def tolist(self):
        return self.v


class TensorLikeTest(TmpDir):
    def test_tensor_objects_use_detach_path(self):
        sd = gat_state(Gen())
        tsd = {k: FakeTensor(v) for k, v in sd.items()}
        path = self.path("t.safetensors")
        ex.export_state_dict(tsd, gat_layers(), path)
        self.check_layout(path, sd, gat_layers())


class FixtureRoundTripTest(TmpDir):
    def reexport(self, fixture):
        raw, meta, tensors, _ = parse(fixture)
        layers = json.loads(meta["graphkern"])["layers"]
        extra = {k: v for k, v in meta.items() if k != "graphkern"}
        sd = {n: unf32(b) for n, (dt, shape, b) in tensors.items()}
        shapes = {n: shape for n, (dt, shape, b) in tensors.items()}
        for n, (dt, _, _) in tensors.items():
            self.assertEqual(dt, "F32", n)
        out = self.path(os.path.basename(fixture))
        ex.export_state_dict(sd, layers, out, metadata=extra, shapes=shapes)
        return raw, tensors, out, layers

    def test_ref_topk10_tensor_bytes(self):
        fixture = os.path.join(FIXTURES, "ref_topk10_n100.model.safetensors")
        raw, tensors, out, _ = self.reexport(fixture)
        raw2, meta2, tensors2, _ = parse(out)
        self.assertEqual(sorted(tensors2), sorted(tensors))
        for n in tensors:
            self.assertEqual(tensors2[n], tensors[n], n)
        # same metadata -> the whole file is identical
        with open(fixture, "rb") as a, open(out, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_every_fixture(self):
        models = sorted(glob.glob(os.path.join(FIXTURES, "*.model.safetensors")))
        self.assertTrue(models)
        for fixture in models:
            with self.subTest(fixture=os.path.basename(fixture)):
                raw, tensors, out, layers = self.reexport(fixture)
                _, _, tensors2, _ = parse(out)
                self.assertEqual(tensors2, tensors)
                if all(l["type"] == "GATConv" for l in layers):
                    with open(fixture, "rb") as a, open(out, "rb") as b:
                        self.assertEqual(a.read(), b.read())
                r = subprocess.run([sys.executable, TOOL, "--check", fixture],
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)


class CheckCliTest(TmpDir):
    def run_check(self, path):
        return subprocess.run([sys.executable, TOOL, "--check", path],
                              capture_output=True, text=True)

    def test_help(self):
        r = subprocess.run([sys.executable, TOOL, "--help"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--check", r.stdout)

    def test_rejects_broken_files(self):
        good = self.path("good.safetensors")
        ex.export_state_dict(gat_state(Gen()), gat_layers(), good)
        with open(good, "rb") as f:
            buf = f.read()
        (n,) = struct.unpack("<Q", buf[:8])
        header = json.loads(buf[8:8 + n])

        def rewrite(h, data=None):
            hj = json.dumps(h).encode()
            hj += b" " * (-len(hj) % 8)
            return struct.pack("<Q", len(hj)) + hj + (buf[8 + n:] if data is None else data)

        bad = {}
        bad["truncated"] = (buf[:-4], "data_offsets")
        bad["short"] = (buf[:5], "truncated")
        bad["hlen"] = (struct.pack("<Q", 1 << 40) + buf[8:], "truncated")
        bad["json"] = (buf[:8] + b"[" + buf[9:], "JSON")
        h = json.loads(json.dumps(header))
        h["conv1.bias"]["data_offsets"][1] += 4
        bad["overlap"] = (rewrite(h), "overlaps|bytes for")
        h = json.loads(json.dumps(header))
        h["conv1.bias"]["shape"] = [13]
        h["conv1.bias"]["data_offsets"] = [0, 52]
        bad["overlap2"] = (rewrite(h), "overlaps")
        h = json.loads(json.dumps(header))
        del h["conv2.att_src"]
        bad["missing"] = (rewrite(h), "hole|missing")
        h = json.loads(json.dumps(header))
        h["__metadata__"]["graphkern"] = "{not json"
        bad["meta"] = (rewrite(h), "graphkern")
        h = json.loads(json.dumps(header))
        del h["__metadata__"]
        bad["nometa"] = (rewrite(h), "graphkern")
        bad["trailing"] = (buf + b"\0" * 4, "trailing")
        for what, (data, msg) in bad.items():
            with self.subTest(what=what):
                p = self.path(what + ".safetensors")
                with open(p, "wb") as f:
                    f.write(data)
                r = self.run_check(p)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertRegex(r.stderr, msg)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1)
                self.assertNotIn("Traceback", r.stderr)


# ---- export_pyg against stand-ins of PyG modules (no torch needed) -------

class FakeModule:
    def __init__(self, **attrs):
        self._children = []
        self._state = {}
        self.__dict__.update(attrs)

    def add(self, name, child):
        self._children.append((name, child))
        return child

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._children:
            yield from child.named_modules(prefix + "." + name if prefix else name)

    def state_dict(self):
        return dict(self._state)


def fake_conv(cls, gen, F, C, H=1, concat=True, edge_dim=None, residual=False,
              share=False, **extra):
    conv = type(cls, (FakeModule,), {})(
        in_channels=F, out_channels=C, heads=H, concat=concat,
        negative_slope=0.2, add_self_loops=True, fill_value="mean",
        edge_dim=edge_dim, dropout=0.0, **extra)
    W = H * C if concat else C
    conv.bias = object()
    conv.res = object() if residual else None
    sd = conv._state
    if cls == "GATConv":
        sd["lin.weight"] = gen.nested([H * C, F])
        sd["att_src"] = gen.nested([1, H, C])
        sd["att_dst"] = gen.nested([1, H, C])
        if edge_dim:
            sd["lin_edge.weight"] = gen.nested([H * C, edge_dim])
            sd["att_edge"] = gen.nested([1, H, C])
    else:
        conv.share_weights = share
        sd["lin_l.weight"] = gen.nested([H * C, F])
        sd["lin_l.bias"] = gen.nested([H * C])
        sd["lin_r.weight"] = sd["lin_l.weight"] if share else gen.nested([H * C, F])
        sd["lin_r.bias"] = sd["lin_l.bias"] if share else gen.nested([H * C])
        sd["att"] = gen.nested([1, H, C])
        if edge_dim:
            sd["lin_edge.weight"] = gen.nested([H * C, edge_dim])
    sd["bias"] = gen.nested([W])
    if residual:
        sd["res.weight"] = gen.nested([W, F])
    return conv


class ExportPygFakeTest(TmpDir):
    def model(self):
        g = Gen()
        m = FakeModule()
        m.add("conv1", fake_conv("GATConv", g, 8, 4, H=2, edge_dim=1))
        m.add("dropout", FakeModule())
        m.add("head", fake_conv("GATv2Conv", g, 8, 3, H=2, concat=False,
                                edge_dim=1, residual=True, share=True))
        return m

    def expected_state(self, m):
        sd = {}
        for name, mod in m.named_modules():
            if type(mod).__name__ in ("GATConv", "GATv2Conv"):
                for k, v in mod.state_dict().items():
                    sd[name + "." + k] = v
        return sd

    def test_metadata_from_module_attributes(self):
        m = self.model()
        path = self.path("m.safetensors")
        ex.export_pyg(m, path)
        raw, meta, tensors, order = parse(path)
        layers = json.loads(meta["graphkern"])["layers"]
        self.assertEqual(layers, [
            {"name": "conv1", "type": "GATConv", "in_channels": 8,
             "out_channels": 4, "heads": 2, "concat": True,
             "negative_slope": 0.2, "add_self_loops": True,
             "fill_value": "mean", "edge_dim": 1, "bias": True,
             "residual": False, "activation": "elu"},
            {"name": "head", "type": "GATv2Conv", "in_channels": 8,
             "out_channels": 3, "heads": 2, "concat": False,
             "negative_slope": 0.2, "add_self_loops": True,
             "fill_value": "mean", "edge_dim": 1, "bias": True,
             "residual": True, "share_weights": True, "activation": "none"}])
        sd = self.expected_state(m)
        self.assertEqual(order, sorted(sd))
        for n, v in sd.items():
            self.assertEqual(tensors[n][2], f32(flatten(v)), n)

    def test_activations_list_and_dict(self):
        path = self.path("m.safetensors")
        ex.export_pyg(self.model(), path, activations=["relu", "leaky_relu"])
        acts = [l["activation"] for l in
                json.loads(parse(path)[1]["graphkern"])["layers"]]
        self.assertEqual(acts, ["relu", "leaky_relu"])
        ex.export_pyg(self.model(), path, activations={"head": "elu"})
        acts = [l["activation"] for l in
                json.loads(parse(path)[1]["graphkern"])["layers"]]
        self.assertEqual(acts, ["elu", "elu"])
        with self.assertRaisesRegex(ex.ModelFormatError, "1 given for 2"):
            ex.export_pyg(self.model(), path, activations=["relu"])
        with self.assertRaisesRegex(ex.ModelFormatError, "no layer named 'x'"):
            ex.export_pyg(self.model(), path, activations={"x": "relu"})

    def test_unsupported_modules(self):
        path = self.path("m.safetensors")
        with self.assertRaisesRegex(ex.ModelFormatError, "no GATConv"):
            ex.export_pyg(FakeModule(), path)
        m = FakeModule()
        m.add("c", fake_conv("GATConv", Gen(), 4, 2))
        m._children[0][1].in_channels = (4, 5)
        with self.assertRaisesRegex(ex.ModelFormatError, "bipartite"):
            ex.export_pyg(m, path)
        m._children[0][1].in_channels = -1
        with self.assertRaisesRegex(ex.ModelFormatError, "lazy"):
            ex.export_pyg(m, path)


@unittest.skipUnless(HAVE_PYG, "torch and torch_geometric not installed")
class ExportPygRealTest(TmpDir):
    def test_real_pyg_model(self):
        torch.manual_seed(0)

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = PygGATConv(8, 4, heads=2, edge_dim=1)
                self.conv2 = PygGATConv(8, 3, heads=1, concat=False, edge_dim=1)
                self.conv3 = PygGATv2Conv(3, 2, heads=2, share_weights=True)

        net = Net().eval()
        path = self.path("net.safetensors")
        ex.export_pyg(net, path)
        raw, meta, tensors, order = parse(path)
        sd = net.state_dict()
        self.assertEqual(order, sorted(sd))
        for n, t in sd.items():
            dtype, shape, b = tensors[n]
            self.assertEqual(shape, list(t.shape), n)
            self.assertEqual(b, f32(t.detach().float().flatten().tolist()), n)
        layers = json.loads(meta["graphkern"])["layers"]
        self.assertEqual([(l["name"], l["type"], l["edge_dim"], l["concat"],
                           l["activation"]) for l in layers],
                         [("conv1", "GATConv", 1, True, "elu"),
                          ("conv2", "GATConv", 1, False, "elu"),
                          ("conv3", "GATv2Conv", None, True, "none")])
        self.assertTrue(layers[2]["share_weights"])
        self.assertEqual(meta["pyg_version"], torch_geometric.__version__)
        r = subprocess.run([sys.executable, TOOL, "--check", path],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
