"""plan.infer_async: asyncio on top of the GIL-free plan.infer.

The call runs in the event loop's default executor (a thread). The plan is
not reentrant, so calls on one plan are queued on an asyncio.Lock created
with the plan's first async call. A cancelled call cannot stop C code that
is already running; instead the cancellation waits for it (shielded) and
then propagates, so that when `await` ends, by result or by
CancelledError, nothing still writes to `out` or holds the plan.
"""

import asyncio


def _lock_of(plan):
    try:
        return plan._lock
    except AttributeError:
        plan._lock = asyncio.Lock()
        return plan._lock


async def infer_async(plan, x, edge_index, edge_attr, out, graph):
    loop = asyncio.get_running_loop()
    async with _lock_of(plan):
        job = loop.run_in_executor(
            None, lambda: plan.infer(x, edge_index, edge_attr, out=out, graph=graph))
        try:
            return await asyncio.shield(job)
        except asyncio.CancelledError:
            # Let the worker finish before giving the plan and buffers back.
            while not job.done():
                try:
                    await asyncio.shield(job)
                except asyncio.CancelledError:
                    continue
                except Exception:  # the caller asked to cancel; its error is moot
                    break
            raise
