"""graphkern's Python API without numpy: array.array / memoryview inputs,
parity with PyG on every fixture, zero-copy outputs, errors."""

import array
import os
import sys
import tempfile
import threading
import tracemalloc
import unittest

import graphkern
from gktest import (fixture_names, flat, load_case, model_path, random_graph,
                    read_tensors, rel_error, rss_bytes)

TOL = 1e-5


class MemoryviewOutputs(unittest.TestCase):
    """Outputs as 2-D memoryviews even where numpy is installed."""

    def setUp(self):
        graphkern._graphkern._numpy_outputs(False)

    def tearDown(self):
        graphkern._graphkern._numpy_outputs(True)


class Parity(MemoryviewOutputs):
    def run_case(self, name, use_graph):
        path, io = load_case(name)
        model = graphkern.Model(path)
        x, ei = io["x"][2], io["edge_index"][2]
        ea = io["edge_attr"][2] if "edge_attr" in io else None
        n, e = io["x"][1][0], io["edge_index"][1][1]
        plan = model.plan(n, e)
        if use_graph:
            g = model.graph(n, e)
            g.set(ei, ea, num_nodes=n)
            y = plan.infer(x, graph=g)
        else:
            y = plan.infer(x, ei, ea)
        self.assertIsInstance(y, memoryview)
        self.assertEqual(y.shape, (n, model.out_features))
        self.assertEqual(y.format, "f")
        err = rel_error(flat(y), io["y_pyg_f64"][2])
        self.assertLess(err, TOL, "%s: %.3g" % (name, err))

    def test_every_fixture_coo(self):
        for name in fixture_names():
            with self.subTest(name=name):
                self.run_case(name, use_graph=False)

    def test_every_fixture_graph(self):
        for name in fixture_names():
            with self.subTest(name=name):
                self.run_case(name, use_graph=True)

    def test_threads_option_gives_the_same_bits(self):
        path, io = load_case("ref_topk16_n1000_edge1")
        m = graphkern.Model(path)
        args = (io["x"][2], io["edge_index"][2], io["edge_attr"][2])
        y1 = flat(m.plan(1000, 16000).infer(*args))
        y2 = flat(m.plan(1000, 16000, threads=2).infer(*args))
        self.assertEqual(y1, y2)

    def test_infer_batch_matches_pyg_and_infer_bitwise(self):
        """Three graphs of one model in one call, 1 and 2 threads: each
        within TOL of PyG, bitwise what infer() gives, outs written."""
        path, io = load_case("ref_topk10_n100")
        m = graphkern.Model(path)
        x, ei = io["x"][2], io["edge_index"][2]
        n, e = io["x"][1][0], io["edge_index"][1][1]
        x2, ei2 = random_graph(60, 5, m.in_features, seed=7)
        g = m.graph(n, e)
        g.set(ei, num_nodes=n)
        g2 = m.graph(60, 300)
        g2.set(ei2, num_nodes=60)
        single = m.plan(n, e)
        want = [flat(single.infer(x, graph=g)), flat(single.infer(x2, graph=g2))]
        for threads in (1, 2):
            plan = m.plan(n, e, threads=threads)
            outs = [array.array("f", bytes(4 * 60 * m.out_features)) for _ in range(3)]
            outs[0] = array.array("f", bytes(4 * n * m.out_features))
            ys = plan.infer_batch([x, x2, x2], [g, g2, g2], outs)
            self.assertEqual(len(ys), 3)
            self.assertIs(ys[0], outs[0])
            self.assertLess(rel_error(outs[0], io["y_pyg_f64"][2]), TOL)
            self.assertEqual(flat(ys[0]), want[0])
            self.assertEqual(flat(ys[1]), want[1])
            self.assertEqual(flat(ys[2]), want[1])
            fresh = plan.infer_batch([x2], [g2])
            self.assertEqual(flat(fresh[0]), want[1])
        self.assertEqual(plan.infer_batch([], []), [])

    def test_infer_batch_errors(self):
        path, io = load_case("ref_topk10_n100")
        m = graphkern.Model(path)
        x, ei = io["x"][2], io["edge_index"][2]
        n, e = io["x"][1][0], io["edge_index"][1][1]
        g = m.graph(n, e)
        g.set(ei, num_nodes=n)
        plan = m.plan(n, e)
        with self.assertRaisesRegex(ValueError, "xs has 2 items, graphs 1"):
            plan.infer_batch([x, x], [g])
        with self.assertRaisesRegex(TypeError, r"graphs\[1\]: graph must be a graphkern Graph"):
            plan.infer_batch([x, x], [g, ei])
        with self.assertRaisesRegex(ValueError, r"graphs\[0\]: x has 99 rows"):
            plan.infer_batch([x[:99 * m.in_features]], [g])
        with self.assertRaisesRegex(TypeError, r"xs\[0\]"):
            plan.infer_batch([array.array("d", [0.0] * 64)], [g])
        out = array.array("f", bytes(4 * n * m.out_features))
        with self.assertRaisesRegex(ValueError, "same buffer"):
            plan.infer_batch([x, x], [g, g], [out, out])
        with self.assertRaisesRegex(TypeError, "sequence"):
            plan.infer_batch(5, [g])
        small = m.plan(50, e)  # the library's own check, naming the item
        with self.assertRaisesRegex(graphkern.InvalidInputError, "exceeds"):
            small.infer_batch([x], [g])

    def test_model_from_bytes_and_pathlike(self):
        import pathlib
        path = model_path("ref_topk10_n100")
        with open(path, "rb") as f:
            blob = f.read()
        for src in (blob, bytearray(blob), memoryview(blob), pathlib.Path(path)):
            m = graphkern.Model(src)
            self.assertEqual((m.in_features, m.out_features, m.num_layers), (32, 8, 2))

    def test_shaped_memoryview_and_int32_inputs(self):
        path, io = load_case("ref_topk10_n100")
        plan = graphkern.Model(path).plan(100, 1000)
        x = memoryview(io["x"][2]).cast("B").cast("f", [100, 32])
        ei32 = array.array("i", io["edge_index"][2])
        ei = memoryview(ei32).cast("B").cast("i", [2, 1000])
        y = plan.infer(x, ei)
        self.assertLess(rel_error(flat(y), io["y_pyg_f64"][2]), TOL)

    def test_attention_and_layer_edges(self):
        path, io = load_case("quirky_n12")
        m = graphkern.Model(path)
        plan = m.plan(12, 36, keep_attention=True)
        g = m.graph(12, 36)
        g.set(io["edge_index"][2], num_nodes=12)
        plan.infer(io["x"][2], graph=g)
        for layer in range(m.num_layers):
            alpha = plan.attention(layer)
            edges = g.layer_edges(layer)
            if alpha is None:
                continue
            self.assertEqual(alpha.shape[0], edges.shape[1])
            # softmax per target: weights of each target's edges sum to 1 per head
            heads = alpha.shape[1]
            sums = {}
            for k, dst in enumerate(edges.tolist()[1]):
                for h in range(heads):
                    sums[(dst, h)] = sums.get((dst, h), 0.0) + alpha[k, h]
            for s in sums.values():
                self.assertAlmostEqual(s, 1.0, places=5)
        self.assertIsNone(m.plan(12, 36).attention(0))


class ZeroCopy(MemoryviewOutputs):
    def setUp(self):
        super().setUp()
        path, self.io = load_case("ref_topk10_n100")
        self.model = graphkern.Model(path)
        self.plan = self.model.plan(100, 1000)
        self.graph = self.model.graph(100, 1000)
        self.graph.set(self.io["edge_index"][2], num_nodes=100)
        self.x = self.io["x"][2]

    def test_out_is_written_in_place_and_returned(self):
        for out in (array.array("f", bytes(100 * 8 * 4)),
                    memoryview(bytearray(100 * 8 * 4)).cast("f", [100, 8])):
            before = id(out)
            y = self.plan.infer(self.x, graph=self.graph, out=out)
            self.assertIs(y, out)
            self.assertEqual(id(y), before)
            self.assertLess(rel_error(flat(out), self.io["y_pyg_f64"][2]), TOL)

    def test_no_allocation_growth_over_10k_calls(self):
        out = array.array("f", bytes(100 * 8 * 4))
        ei = self.io["edge_index"][2]
        for _ in range(200):  # warm up caches (method, buffer info)
            self.plan.infer(self.x, graph=self.graph, out=out)
            self.plan.infer(self.x, ei, out=out)
        rss0 = rss_bytes()
        tracemalloc.start()
        try:
            snap0 = tracemalloc.take_snapshot()
            cur0, _ = tracemalloc.get_traced_memory()
            for _ in range(10_000):
                self.plan.infer(self.x, graph=self.graph, out=out)
            for _ in range(10_000):
                self.plan.infer(self.x, ei, out=out)
            cur1, peak = tracemalloc.get_traced_memory()
            growth = [s for s in tracemalloc.take_snapshot().compare_to(snap0, "lineno")
                      if s.size_diff > 0 and "tracemalloc" not in str(s.traceback)]
        finally:
            tracemalloc.stop()
        self.assertLess(cur1 - cur0, 4096, growth[:5])
        self.assertLess(peak - cur0, 64 * 1024)
        self.assertLess(rss_bytes() - rss0, 1 << 20)


class BadInputs(MemoryviewOutputs):
    def setUp(self):
        super().setUp()
        path, self.io = load_case("ref_topk10_n100")
        self.model = graphkern.Model(path)
        self.plan = self.model.plan(100, 1000)
        self.x, self.ei = self.io["x"][2], self.io["edge_index"][2]

    def check(self, exc, pattern, *args, **kwargs):
        with self.assertRaisesRegex(exc, pattern):
            self.plan.infer(*args, **kwargs)

    def test_wrong_dtypes(self):
        self.check(TypeError, r"^x must be float32, got float64",
                   array.array("d", self.x), self.ei)
        self.check(TypeError, r"^edge_index must be int64 or int32, got float32",
                   self.x, array.array("f", self.ei))
        self.check(TypeError, r"^out must be float32, got int32", self.x, self.ei,
                   out=array.array("i", bytes(100 * 8 * 4)))

    def test_not_a_buffer(self):
        self.check(TypeError, r"^x must be a C-contiguous float32 array .* got list",
                   list(self.x), self.ei)
        self.check(TypeError, r"^edge_index must .* got tuple", self.x, (0, 1))

    def test_non_contiguous(self):
        strided = memoryview(array.array("f", self.x) * 2)[::2]
        self.check(TypeError, r"^x must be C-contiguous float32 \[rows, 32\]: got a "
                   "non-contiguous view", strided, self.ei)

    def test_read_only_out(self):
        self.check(TypeError, r"^out must be writable", self.x, self.ei,
                   out=bytes(100 * 8 * 4))

    def test_shapes(self):
        self.check(ValueError, r"^x must have shape \[rows, 32\]",
                   self.x[:-1], self.ei)
        x2d = memoryview(self.x).cast("B").cast("f", [200, 16])
        self.check(ValueError, r"x must have shape \[rows, 32\] .* got shape \(200, 16\)",
                   x2d, self.ei)
        self.check(ValueError, r"^edge_index must have shape \[2, E\]",
                   self.x, self.ei[:-1])
        self.check(ValueError, r"^out has 99 rows, x has 100", self.x, self.ei,
                   out=array.array("f", bytes(99 * 8 * 4)))
        self.check(ValueError, r"^edge_attr given, but the model has no edge features",
                   self.x, self.ei, array.array("f", bytes(4000)))
        self.check(ValueError, r"^x has no rows", array.array("f"), self.ei)

    def test_arguments(self):
        self.check(TypeError, r"missing required argument 'x'")
        self.check(TypeError, r"needs edge_index or graph=", self.x)
        self.check(TypeError, r"unexpected keyword argument 'edges'", self.x, edges=1)
        self.check(TypeError, r"multiple values for argument 'x'", self.x, x=self.x)
        self.check(TypeError, r"graph must be a graphkern Graph", self.x, graph=1)
        g = self.model.graph(200, 1000)
        g.set(self.ei, num_nodes=100)
        self.check(TypeError, r"either graph= or edge_index", self.x, self.ei, graph=g)
        g.set(self.ei, num_nodes=101)
        self.check(ValueError, r"x has 100 rows, the graph has 101 nodes", self.x, graph=g)

    def test_library_errors_carry_status_and_message(self):
        bad = array.array("q", self.ei)
        bad[5] = 100
        with self.assertRaises(graphkern.InvalidInputError) as cm:
            self.plan.infer(self.x, bad)
        e = cm.exception
        self.assertIsInstance(e, ValueError)
        self.assertIsInstance(e, graphkern.Error)
        self.assertEqual(e.status, "GK_EINDEX")
        self.assertIn("100", e.message)
        self.assertEqual(str(e), e.message)

        nan_x = array.array("f", self.x)
        nan_x[33] = float("nan")
        with self.assertRaises(graphkern.InvalidInputError) as cm:
            self.plan.infer(nan_x, self.ei)
        self.assertEqual(cm.exception.status, "GK_ENONFINITE")
        self.assertIn("x[1][1]", str(cm.exception))

        big = self.model.plan(10, 1000)
        with self.assertRaises(graphkern.InvalidInputError) as cm:
            big.infer(self.x, self.ei)
        self.assertEqual(cm.exception.status, "GK_ELIMIT")

    def test_model_errors(self):
        with self.assertRaises(graphkern.FileError) as cm:
            graphkern.Model("/nonexistent/model.safetensors")
        self.assertIsInstance(cm.exception, OSError)
        self.assertEqual(cm.exception.status, "GK_EIO")
        with self.assertRaises(graphkern.ModelFormatError) as cm:
            graphkern.Model(b"\x04\x00\x00\x00\x00\x00\x00\x00{}")
        self.assertIsInstance(cm.exception, ValueError)
        self.assertTrue(cm.exception.status.startswith("GK_E"))
        with self.assertRaisesRegex(TypeError, "path .* or bytes-like"):
            graphkern.Model(3)
        with self.assertRaises(ValueError):
            self.model.plan(0, 10)
        with self.assertRaisesRegex(ValueError, "unknown ISA .sse.: expected one of"):
            self.model.plan(10, 10, isa="sse")

    def test_plan_in_use_by_another_thread(self):
        """Two threads on one plan: RuntimeError, never a race or a hang."""
        x, ei = random_graph(20_000, 16, 32)
        plan = self.model.plan(20_000, 320_000)
        ref = flat(plan.infer(x, ei))
        collisions, done = [], threading.Event()

        def hammer():
            out = array.array("f", bytes(20_000 * 8 * 4))
            while not done.is_set():
                try:
                    plan.infer(x, ei, out=out)
                    self.assertEqual(out.tolist(), ref)
                except RuntimeError as e:
                    self.assertIn("in use by another thread", str(e))
                    collisions.append(1)

        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        for _ in range(300):
            if collisions:
                break
            done.wait(0.01)
        done.set()
        for t in threads:
            t.join(30)
            self.assertFalse(t.is_alive())
        self.assertTrue(collisions, "no collision in 3 s")


class Package(unittest.TestCase):
    def test_export_pyg_is_the_tool(self):
        self.assertTrue(callable(graphkern.export_pyg))
        path, io = load_case("residual_n30")
        model = graphkern.Model(path)
        tensors = {n: (shape, list(a)) for n, (_, shape, a) in read_tensors(path).items()}
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "m.safetensors")
            graphkern.export_state_dict({n: a for n, (s, a) in tensors.items()},
                                        model.layers, out,
                                        shapes={n: s for n, (s, a) in tensors.items()})
            again = graphkern.Model(out)
        n, e = io["x"][1][0], io["edge_index"][1][1]
        y0 = flat(model.plan(n, e).infer(io["x"][2], io["edge_index"][2]))
        y1 = flat(again.plan(n, e).infer(io["x"][2], io["edge_index"][2]))
        self.assertEqual(y0, y1)

    def test_repr_and_attributes(self):
        m = graphkern.Model(model_path("ref_topk10_n100"))
        p = m.plan(100, 1000)
        self.assertIn("2 layers", repr(m))
        self.assertEqual(len(p.kernels), 2)
        self.assertIn("layer 0", p.describe())
        self.assertIs(p.model, m)
        self.assertEqual((p.max_nodes, p.max_edges), (100, 1000))


if __name__ == "__main__":
    unittest.main()
