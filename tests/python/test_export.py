"""graphkern.export / graphkern.compile on real PyG models (format 2).

The six fixture models (../shared/fixtures/models, or GK_MODEL_FIXTURES) are
exported from their model.py and weights with no edit and must match
PyTorch's float64 run (y_ref_f64) within 1e-5 through the compiled callable
and Plan.run; models of the same kinds written here (extra_models.py) are
checked against the model itself run in float64, on the example's graph and
on a smaller one through the same plan. What graphkern cannot represent
must raise ExportError naming the user's line, and write no file.

Needs torch (Debian: python3-torch) and PyG on PYTHONPATH
(../shared/vendor/pyg-2.6.1): the tests skip, saying which is missing.
"""

import importlib.util
import json
import os
import struct
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
SHARED_MODELS = os.environ.get("GK_MODEL_FIXTURES",
                               os.path.join(REPO, "..", "shared", "fixtures", "models"))

try:
    import torch
    import torch_geometric  # noqa: F401
    MISSING = None
except ImportError as e:  # torch or PyG
    MISSING = "needs torch and torch_geometric (%s)" % e

TOLERANCE = 1e-5


def read_tensors(path):
    import numpy as np
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    types = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        out[k] = torch.from_numpy(
            np.frombuffer(b[8 + n + s:8 + n + e], dtype=types[v["dtype"]]).reshape(v["shape"]).copy())
    return out


def rel_error(got, ref):
    ref = ref.double()
    scale = max(1e-3, float(ref.abs().max()))
    return float((torch.as_tensor(got).double() - ref).abs().max()) / scale


def as_double(a):
    if a is None:
        return None
    if hasattr(a, "to_dict") and not torch.is_tensor(a):   # a PyG Data object
        from torch_geometric.data import Data
        return Data(**{k: as_double(v) for k, v in a.to_dict().items()})
    return a.double() if a.is_floating_point() else a


def float64_run(model, args):
    import copy
    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        return m(*[as_double(a) for a in args])


@unittest.skipIf(MISSING, MISSING)
class FixtureModels(unittest.TestCase):
    """The six real PyG models, unedited."""

    def cases(self):
        if not os.path.isdir(SHARED_MODELS):
            self.skipTest("no model fixtures at %s" % SHARED_MODELS)
        return sorted(d for d in os.listdir(SHARED_MODELS)
                      if os.path.isfile(os.path.join(SHARED_MODELS, d, "model.py")))

    def load(self, case):
        spec = importlib.util.spec_from_file_location("fixture_" + case, os.path.join(
            SHARED_MODELS, case, "model.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = mod.build().eval()
        model.load_state_dict(read_tensors(os.path.join(SHARED_MODELS, case,
                                                        "weights.safetensors")))
        with open(os.path.join(SHARED_MODELS, case, "case.json")) as f:
            info = json.load(f)
        io = read_tensors(os.path.join(SHARED_MODELS, case, "io.safetensors"))
        return model, info, io

    def test_compile_matches_float64(self):
        import graphkern
        for case in self.cases():
            with self.subTest(case=case):
                model, info, io = self.load(case)
                args = [io[k] for k in info["inputs"]]
                if info["forward"] == "data":
                    from torch_geometric.data import Data
                    example = (Data(**{k: io[k] for k in info["inputs"]}),)
                else:
                    example = tuple(args)
                fast = graphkern.compile(model, example)
                y = fast(*example)
                self.assertIsInstance(y, torch.Tensor)
                self.assertEqual(tuple(y.shape), tuple(io["y_ref_f64"].shape))
                err = rel_error(y, io["y_ref_f64"])
                self.assertLessEqual(err, TOLERANCE, case)
                # numpy in -> numpy out, through Plan.run
                out = fast.plan.run({k: io[k].numpy() for k in info["inputs"]})
                self.assertLessEqual(rel_error(torch.from_numpy(out["y"]), io["y_ref_f64"]),
                                     TOLERANCE)

    def test_export_file_loads_in_c(self):
        import graphkern
        model, info, io = self.load("encoder_gat_skip_ln_mlp")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            ex = graphkern.export(model, tuple(io[k] for k in info["inputs"]), path)
            self.assertLessEqual(ex.max_error, TOLERANCE)
            m = graphkern.Model(path)
            plan = m.plan(max_nodes=100, max_edges=1000)
            y = plan.run({"x": io["x"], "edge_index": io["edge_index"]})["y"]
            self.assertLessEqual(rel_error(torch.from_numpy(y), io["y_ref_f64"]), TOLERANCE)
            self.assertIn("GATConv", plan.describe())


@unittest.skipIf(MISSING, MISSING)
class OtherModels(unittest.TestCase):
    """Models of the same kinds, written for this test."""

    def test_each_model(self):
        import graphkern
        import extra_models as em
        for name, (build, make_inputs) in em.MODELS.items():
            with self.subTest(model=name):
                gen = torch.Generator().manual_seed(sum(name.encode()))
                model = em.randomize(build(), gen)
                example = make_inputs(40, gen)
                fast = graphkern.compile(model, example, max_nodes=40, max_edges=400)
                self.assertLessEqual(rel_error(fast(*example), float64_run(model, example)),
                                     TOLERANCE, name)
                smaller = make_inputs(23, gen)    # same plan, fewer nodes
                self.assertLessEqual(rel_error(fast(*smaller), float64_run(model, smaller)),
                                     TOLERANCE, name + " on 23 nodes")


@unittest.skipIf(MISSING, MISSING)
class Refusals(unittest.TestCase):
    """What graphkern cannot represent: ExportError with the user's line,
    and no file."""

    def test_refused_with_line(self):
        import graphkern
        import extra_models as em
        gen = torch.Generator().manual_seed(7)
        x, ei = torch.randn(10, 4, generator=gen), em.topk_graph(10, 3, gen)
        for tag, build in em.REFUSED.items():
            with self.subTest(model=tag), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "m.safetensors")
                with self.assertRaises(graphkern.ExportError) as caught:
                    graphkern.export(build().eval(), (x, ei), path)
                msg = str(caught.exception)
                self.assertIn("extra_models.py", msg)
                self.assertIn("REFUSED-LINE " + tag, msg)
                self.assertFalse(os.path.exists(path))

    def test_fixed_universe_refused(self):
        import graphkern
        import extra_models as em
        gen = torch.Generator().manual_seed(9)
        x, ei = torch.randn(10, 4, generator=gen), em.topk_graph(10, 3, gen)
        with self.assertRaises(graphkern.ExportError) as caught:
            graphkern.export(em.FixedUniverse().eval(), (x, ei))
        self.assertIn("runs on the example's 10 nodes but not on", str(caught.exception))

    def test_embedding_index_checked(self):
        import graphkern
        import extra_models as em
        gen = torch.Generator().manual_seed(5)
        model = em.randomize(em.SectorEmbedding(), gen)
        x, ei, sector = em.sector_inputs(12, gen)
        fast = graphkern.compile(model, (x, ei, sector))
        sector[3] = 11
        with self.assertRaises(graphkern.InvalidInputError) as caught:
            fast(x, ei, sector)
        self.assertIn("sector[3] = 11 is not a row of embedding 'sector'", str(caught.exception))

    def test_training_flag_restored(self):
        import graphkern
        import extra_models as em
        gen = torch.Generator().manual_seed(3)
        model = em.randomize(em.EdgeGatBnHead(), gen).train()
        graphkern.export(model, em.edge_inputs(12, gen))
        self.assertTrue(model.training)


if __name__ == "__main__":
    unittest.main()
