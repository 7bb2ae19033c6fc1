"""The numpy side: ndarray inputs and outputs, zero-copy, strided and
wrongly typed arrays, allocation growth. Skipped without numpy (Debian:
python3-numpy); torch is tried too when importable."""

import tracemalloc
import unittest

import graphkern
from gktest import fixture_names, load_case, numpy as np, rel_error, rss_bytes

TOL = 1e-5


def arrays(io):
    x = np.frombuffer(io["x"][2], dtype=np.float32).reshape(io["x"][1])
    ei = np.frombuffer(io["edge_index"][2], dtype=np.int64).reshape(io["edge_index"][1])
    ea = (np.frombuffer(io["edge_attr"][2], dtype=np.float32).reshape(io["edge_attr"][1])
          if "edge_attr" in io else None)
    y = np.frombuffer(io["y_pyg_f64"][2], dtype=np.float64).reshape(io["y_pyg_f64"][1])
    return x, ei, ea, y


def err(y, y_ref):
    return float(np.abs(y - y_ref).max() / max(1.0, np.abs(y_ref).max()))


@unittest.skipIf(np is None, "numpy is not importable")
class Numpy(unittest.TestCase):
    def setUp(self):
        graphkern._graphkern._numpy_outputs(True)
        path, io = load_case("ref_topk10_n100")
        self.model = graphkern.Model(path)
        self.plan = self.model.plan(100, 1000)
        self.x, self.ei, _, self.y = arrays(io)

    def test_every_fixture(self):
        for name in fixture_names():
            with self.subTest(name=name):
                path, io = load_case(name)
                x, ei, ea, y_ref = arrays(io)
                plan = graphkern.Model(path).plan(x.shape[0], ei.shape[1])
                y = plan.infer(x, ei, ea)
                self.assertIsInstance(y, np.ndarray)
                self.assertEqual((y.dtype, y.shape), (np.float32, y_ref.shape))
                self.assertLess(err(y, y_ref), TOL)
                y32 = plan.infer(x, ei.astype(np.int32), ea)
                self.assertTrue(np.array_equal(y, y32))

    def test_declared_complete_graphs(self):
        """Graph.set_complete on the dense fixtures (every pair j != i)
        against PyG's float64 output, with edge_attr put in the order of
        complete_edge_index; and the refusals."""
        for name in ("ref_dense_n100", "ref_dense_n100_edge1_h4mean"):
            with self.subTest(name=name):
                path, io = load_case(name)
                x, ei, ea, y_ref = arrays(io)
                n = x.shape[0]
                model = graphkern.Model(path)
                plan, graph = model.plan(n, n * n), model.graph(n, n * n)
                order = graphkern.complete_edge_index(n)
                self.assertEqual(order.shape, (2, n * (n - 1)))
                # the fixture's edges are the complete graph, in some order
                position = {(int(s), int(t)): k for k, (s, t) in enumerate(ei.T)}
                self.assertEqual(sorted(position), sorted(map(tuple, order.T.tolist())))
                attr = (None if ea is None else
                        np.ascontiguousarray(ea[[position[(int(s), int(t))] for s, t in order.T]]))
                for _ in range(2):  # the second call rewrites no index
                    graph.set_complete(n, edge_attr=attr)
                    self.assertLess(err(plan.infer(x, graph=graph), y_ref), TOL)
                graph.set(order, edge_attr=attr)  # the same graph as a COO
                self.assertLess(err(plan.infer(x, graph=graph), y_ref), TOL)
                if ea is not None:
                    with self.assertRaisesRegex(ValueError, "edge_attr has 5 rows"):
                        graph.set_complete(n, edge_attr=attr[:5])
                    with self.assertRaises(ValueError):
                        graph.set_complete(n)
                with self.assertRaises(graphkern.InvalidInputError):
                    graph.set_complete(n + 1)
                with self.assertRaises(ValueError):
                    graph.set_complete(0)
        loops = graphkern.complete_edge_index(3, self_loops=True)
        self.assertEqual(loops.tolist(), [[0, 1, 2] * 3, [0] * 3 + [1] * 3 + [2] * 3])

    def test_out_identity_and_in_place(self):
        out = np.full((100, 8), np.nan, dtype=np.float32)
        ptr = out.ctypes.data
        y = self.plan.infer(self.x, self.ei, out=out)
        self.assertIs(y, out)
        self.assertEqual(out.ctypes.data, ptr)
        self.assertLess(err(out, self.y), TOL)
        # a C-contiguous slice of a bigger array is written in place too
        big = np.zeros((300, 8), dtype=np.float32)
        self.plan.infer(self.x, self.ei, out=big[100:200])
        self.assertLess(err(big[100:200], self.y), TOL)
        self.assertFalse(big[:100].any() or big[200:].any())

    def test_inputs_are_not_copied(self):
        """A copy of a 12.8 MiB x would show in tracemalloc (numpy reports its
        allocations there); the call must stay far below that."""
        n = 100_000
        x = np.random.default_rng(0).standard_normal((n, 32), dtype=np.float32)
        ei = np.stack([np.arange(n, dtype=np.int64), np.roll(np.arange(n), 1)])
        plan = self.model.plan(n, n)
        out = np.empty((n, 8), dtype=np.float32)
        plan.infer(x, ei, out=out)
        tracemalloc.start()
        try:
            base, _ = tracemalloc.get_traced_memory()
            plan.infer(x, ei, out=out)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(peak - base, 64 * 1024)

    def test_no_allocation_growth_over_10k_calls(self):
        g = self.model.graph(100, 1000)
        g.set(self.ei)
        out = np.empty((100, 8), dtype=np.float32)
        for _ in range(200):
            self.plan.infer(self.x, graph=g, out=out)
            self.plan.infer(self.x, self.ei, out=out)
        rss0 = rss_bytes()
        tracemalloc.start()
        try:
            cur0, _ = tracemalloc.get_traced_memory()
            for _ in range(10_000):
                self.plan.infer(self.x, graph=g, out=out)
                self.plan.infer(self.x, self.ei, out=out)
            cur1, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        self.assertLess(cur1 - cur0, 4096)
        self.assertLess(rss_bytes() - rss0, 1 << 20)
        self.assertLess(err(out, self.y), TOL)

    def test_strided_and_wrong_dtype_arrays(self):
        xf = np.asfortranarray(self.x)
        with self.assertRaisesRegex(TypeError, r"^x must be C-contiguous float32 "
                                    r"\[rows, 32\]: got a non-contiguous view"):
            self.plan.infer(xf, self.ei)
        with self.assertRaisesRegex(TypeError, r"^x must be C-contiguous"):
            self.plan.infer(np.hstack([self.x, self.x])[:, ::2], self.ei)
        with self.assertRaisesRegex(TypeError, r"^edge_index must be C-contiguous"):
            self.plan.infer(self.x, np.ascontiguousarray(self.ei.T).T)
        with self.assertRaisesRegex(TypeError, r"^x must be float32, got float64"):
            self.plan.infer(self.x.astype(np.float64), self.ei)
        with self.assertRaisesRegex(TypeError, r"^edge_index must be int64 or int32, "
                                    r"got uint64"):
            self.plan.infer(self.x, self.ei.astype(np.uint64))
        with self.assertRaisesRegex(TypeError, r"^out must be writable"):
            ro = np.empty((100, 8), dtype=np.float32)
            ro.flags.writeable = False
            self.plan.infer(self.x, self.ei, out=ro)
        with self.assertRaisesRegex(TypeError, r"^out must be C-contiguous"):
            self.plan.infer(self.x, self.ei, out=np.empty((8, 100), np.float32).T)
        with self.assertRaisesRegex(ValueError, r"^edge_index must have shape \[2, E\]"):
            self.plan.infer(self.x, np.ascontiguousarray(self.ei.T))
        with self.assertRaisesRegex(ValueError, r"got shape \(100, 32, 1\)"):
            self.plan.infer(self.x[:, :, None], self.ei)

    def test_memoryview_outputs_without_numpy(self):
        graphkern._graphkern._numpy_outputs(False)
        try:
            y = self.plan.infer(self.x, self.ei)
        finally:
            graphkern._graphkern._numpy_outputs(True)
        self.assertIsInstance(y, memoryview)
        self.assertLess(err(np.asarray(y), self.y), TOL)


try:
    import torch
except Exception:
    torch = None


@unittest.skipIf(np is None or torch is None, "torch is not importable")
class Torch(unittest.TestCase):
    def test_tensors_through_numpy(self):
        path, io = load_case("ref_topk10_n100")
        x, ei, _, y_ref = arrays(io)
        plan = graphkern.Model(path).plan(100, 1000)
        tx, tei = torch.from_numpy(x.copy()), torch.from_numpy(ei.copy())
        out = torch.empty(100, 8)
        y = plan.infer(tx.numpy(), tei.numpy(), out=out.numpy())
        self.assertLess(err(out.numpy(), y_ref), TOL)
        self.assertLess(err(y, y_ref), TOL)


if __name__ == "__main__":
    unittest.main()
