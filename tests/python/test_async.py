"""plan.infer_async: results, queuing on one plan, concurrency across
plans, and cancellation that leaves the plan and buffers free."""

import array
import asyncio
import unittest

import graphkern
from gktest import flat, load_case, model_path, random_graph, rel_error

TOL = 1e-5


class Async(unittest.TestCase):
    def setUp(self):
        graphkern._graphkern._numpy_outputs(False)
        path, self.io = load_case("ref_topk10_n100")
        self.model = graphkern.Model(path)
        self.x, self.ei = self.io["x"][2], self.io["edge_index"][2]
        self.ref = self.io["y_pyg_f64"][2]

    def tearDown(self):
        graphkern._graphkern._numpy_outputs(True)

    def test_result(self):
        plan = self.model.plan(100, 1000)
        y = asyncio.run(plan.infer_async(self.x, self.ei))
        self.assertLess(rel_error(flat(y), self.ref), TOL)
        out = array.array("f", bytes(100 * 8 * 4))
        g = self.model.graph(100, 1000)
        g.set(self.ei)
        y = asyncio.run(plan.infer_async(self.x, graph=g, out=out))
        self.assertIs(y, out)
        self.assertLess(rel_error(out, self.ref), TOL)

    def test_many_calls_on_one_plan_queue(self):
        plan = self.model.plan(100, 1000)

        async def main():
            return await asyncio.gather(*(plan.infer_async(self.x, self.ei)
                                          for _ in range(16)))
        for y in asyncio.run(main()):
            self.assertLess(rel_error(flat(y), self.ref), TOL)

    def test_two_plans_concurrently(self):
        plans = [self.model.plan(100, 1000) for _ in range(2)]

        async def main():
            return await asyncio.gather(*(p.infer_async(self.x, self.ei)
                                          for p in plans for _ in range(4)))
        self.assertEqual(len(asyncio.run(main())), 8)

    def test_errors_propagate(self):
        plan = self.model.plan(10, 1000)
        with self.assertRaises(graphkern.InvalidInputError) as cm:
            asyncio.run(plan.infer_async(self.x, self.ei))
        self.assertEqual(cm.exception.status, "GK_ELIMIT")

    def test_cancellation_leaves_plan_and_buffers_free(self):
        nodes = 20_000
        x, ei = random_graph(nodes, 16, 32)
        plan = self.model.plan(nodes, nodes * 16)
        out = array.array("f", bytes(nodes * 8 * 4))

        async def main():
            for delay in (0, 0.0005, 0.002):
                task = asyncio.ensure_future(plan.infer_async(x, ei, out=out))
                await asyncio.sleep(delay)
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                # The worker is done: the plan is free and out is settled.
                snapshot = out.tolist()
                await asyncio.sleep(0.01)
                self.assertEqual(out.tolist(), snapshot)
                plan.infer(x, ei)  # no "in use" RuntimeError
            # wait_for's timeout cancels the same way
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(plan.infer_async(x, ei, out=out), 1e-6)
            plan.infer(x, ei)
            return await plan.infer_async(self.x, self.ei)

        small = self.model.plan(100, 1000)
        self.assertTrue(asyncio.run(main()))
        self.assertLess(rel_error(flat(small.infer(self.x, self.ei)), self.ref), TOL)


if __name__ == "__main__":
    unittest.main()
