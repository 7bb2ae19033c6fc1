"""Correlation builder and publisher from Python: correlations against a
direct Pearson computation, build_graph against graph.set with the same
edges, publication semantics, a writer and a reader thread."""

import array
import math
import random
import threading
import unittest

import graphkern
from gktest import flat, model_path

N, T = 12, 30


def pearson(rows, i, j):
    a = [r[i] for r in rows]
    b = [r[j] for r in rows]
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb)


class Market(unittest.TestCase):
    def setUp(self):
        graphkern._graphkern._numpy_outputs(False)
        rng = random.Random(7)
        self.rows = []
        self.corr = graphkern.Correlation(N, T)
        common = 0.0
        for _ in range(T + 15):  # the window wraps
            common = rng.gauss(0, 1)
            row = array.array("f", (0.6 * common + rng.gauss(0, 1) for _ in range(N)))
            self.rows.append(row)
            self.corr.push(row)
        self.window = self.rows[-T:]
        self.model = graphkern.Model(model_path("ref_topk10_n100"))  # edge_dim 0

    def tearDown(self):
        graphkern._graphkern._numpy_outputs(True)

    def test_matrix_is_pearson_over_the_window(self):
        self.assertEqual((self.corr.num_assets, self.corr.count, self.corr.ticks),
                         (N, T, T + 15))
        rho = self.corr.matrix()
        for i in range(N):
            self.assertTrue(self.corr.valid(i))
            for j in range(N):
                want = 1.0 if i == j else pearson(self.window, i, j)
                self.assertAlmostEqual(rho[i, j], want, places=4)
        out = memoryview(bytearray(N * N * 4)).cast("f", [N, N])
        self.assertIs(self.corr.matrix(out=out), out)
        with self.assertRaisesRegex(ValueError, "returns must hold 12 floats"):
            self.corr.push(array.array("f", [0.0] * 24))
        with self.assertRaisesRegex(TypeError, "returns must be float32"):
            self.corr.push(array.array("d", [0.0] * 12))

    def test_build_graph_matches_set_with_the_same_edges(self):
        k = 3
        g = self.model.graph(N, N * (N - 1))
        edges = self.corr.build_graph(g, top_k=k)
        self.assertEqual(edges, N * k)
        self.assertEqual(g.num_edges, N * k)
        # the same top-k by |rho| per target, ties to the smaller source
        rho = self.corr.matrix()
        src, dst = array.array("q"), array.array("q")
        for i in range(N):
            best = sorted((j for j in range(N) if j != i), key=lambda j: (-abs(rho[i, j]), j))
            for j in best[:k]:
                src.append(j)
                dst.append(i)
        ref = self.model.graph(N, N * (N - 1))
        ref.set(src + dst, num_nodes=N)
        x = array.array("f", (random.Random(3).uniform(-1, 1) for _ in range(N * 32)))
        plan = self.model.plan(N, N * (N - 1))
        self.assertEqual(flat(plan.infer(x, graph=g)), flat(plan.infer(x, graph=ref)))
        # a threshold keeps fewer pairs; 1.01 keeps none
        self.assertLess(self.corr.build_graph(g, threshold=0.3), N * (N - 1))
        self.assertEqual(self.corr.build_graph(g, threshold=1.01), 0)

    def test_publisher_semantics(self):
        pub = graphkern.Publisher(self.model, N, N * (N - 1), slots=4, user_bytes=8)
        self.assertIsNone(pub.acquire())
        with self.assertRaisesRegex(RuntimeError, "commit.. without begin"):
            pub.commit()
        g, user = pub.begin()
        self.corr.build_graph(g, top_k=2)
        user[:8] = (1234).to_bytes(8, "little")
        with self.assertRaisesRegex(RuntimeError, "begin.. again"):
            pub.begin()
        self.assertEqual(pub.commit(), 1)
        with self.assertRaisesRegex(RuntimeError, "committed or released"):
            g.set(array.array("q", [0, 1]), num_nodes=2)
        plan = self.model.plan(N, N * (N - 1))
        x = array.array("f", [0.5] * (N * 32))
        with pub.acquire() as snap:
            self.assertEqual((snap.version, snap.graph.num_edges), (1, 2 * N))
            self.assertEqual(int.from_bytes(snap.user, "little"), 1234)
            y = flat(plan.infer(x, graph=snap.graph))
            g2, _ = pub.begin()  # a reader holds slot 1: the writer gets another
            self.corr.build_graph(g2, top_k=4)
            self.assertEqual(pub.commit(), 2)
            self.assertEqual(flat(plan.infer(x, graph=snap.graph)), y)  # still v1
        with self.assertRaisesRegex(RuntimeError, "snapshot was released"):
            snap.graph
        with pub.acquire() as snap:
            self.assertEqual((snap.version, snap.graph.num_edges), (2, 4 * N))

    def test_writer_and_reader_threads(self):
        pub = graphkern.Publisher(self.model, N, N * (N - 1), slots=4, user_bytes=8)
        plan = self.model.plan(N, N * (N - 1))
        x = array.array("f", [0.25] * (N * 32))
        done, seen, errors = threading.Event(), [], []

        def writer():
            try:
                for v in range(1, 301):
                    g, user = pub.begin()
                    k = 1 + v % (N - 1)
                    self.corr.build_graph(g, top_k=k)
                    user[:8] = (N * k).to_bytes(8, "little")
                    self.assertEqual(pub.commit(), v)
            except Exception as e:  # reported below
                errors.append(e)
            finally:
                done.set()

        def reader():
            try:
                while not done.is_set():
                    snap = pub.acquire()
                    if snap is None:
                        continue
                    with snap:
                        self.assertEqual(snap.graph.num_edges,
                                         int.from_bytes(snap.user, "little"))
                        plan.infer(x, graph=snap.graph)
                        seen.append(snap.version)
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(errors, errors[:1])
        self.assertEqual(pub.version, 300)
        self.assertEqual(seen, sorted(seen))  # versions never go back


if __name__ == "__main__":
    unittest.main()
