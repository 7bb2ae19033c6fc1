"""graphkern: PyTorch-Geometric-exact GAT inference in microseconds.

    import graphkern
    model = graphkern.Model("model.safetensors")      # or bytes
    plan = model.plan(max_nodes=100, max_edges=1000)  # all memory, once
    y = plan.infer(x, edge_index)                     # float32 [N, out]

Inputs are any object with the buffer protocol (numpy arrays, torch tensors
through .numpy(), array.array, memoryview): x float32 [N, F], edge_index
int64 or int32 [2, E] (row 0 source, row 1 target, as in PyG), edge_attr
float32 [E, D]; C-contiguous ones are used in place, others are refused.
A flat 1-D buffer is read as rows of the expected width. The result is a
numpy array when numpy is importable, else a 2-D memoryview of a bytearray
(float32 [N, out]; .tolist() gives rows). out= writes into your buffer.

Correlation graphs (trading): Correlation(num_assets, window) keeps rolling
Pearson correlations of pushed returns and builds graphs from them
(build_graph); Publisher(model, max_nodes, max_edges) hands the latest graph
from one writer to any number of readers without locks.

The GIL is released while the C library runs. A Plan serves one call at a
time (RuntimeError otherwise): use one plan per thread. See docs/python.md.
"""

from . import _graphkern
from ._graphkern import (Error, InvalidInputError, ModelFormatError,
                         OutOfMemoryError, FileError, PlatformError,
                         Correlation, Publisher, Snapshot)
from ._async import infer_async as _infer_async
from .export_pyg import export_pyg, export_state_dict

__version__ = _graphkern.version


def complete_edge_index(num_nodes, self_loops=False):
    """The edge list that Graph.set_complete(num_nodes, self_loops) stands
    for, as int64 [2, E]: target by target, sources ascending (row 0 source,
    row 1 target). Build edge_attr for set_complete in this order. Needs
    numpy."""
    import numpy as np
    n = int(num_nodes)
    src = np.tile(np.arange(n, dtype=np.int64), n)
    dst = np.repeat(np.arange(n, dtype=np.int64), n)
    keep = np.ones(n * n, dtype=bool) if self_loops else src != dst
    return np.stack([src[keep], dst[keep]])


def __getattr__(name):
    """export, compile and ExportError load torch: only when first used."""
    if name in ("export", "compile", "ExportError"):
        from . import _export
        return getattr(_export, name)
    raise AttributeError("module 'graphkern' has no attribute %r" % name)
__all__ = ["Model", "Graph", "Plan", "complete_edge_index", "Correlation", "Publisher", "Snapshot", "Error", "InvalidInputError",
           "ModelFormatError", "OutOfMemoryError", "FileError", "PlatformError",
           "export_pyg", "export_state_dict", "export", "compile", "ExportError"]


class Model(_graphkern.Model):
    """Model(path_or_bytes): a graphkern model file (see docs/model-format.md),
    loaded once; immutable and shareable by threads.

    Attributes: num_layers, in_features, out_features, edge_dim, layers."""

    __slots__ = ()

    def plan(self, max_nodes, max_edges, threads=1, **options):
        """A Plan for graphs of up to max_nodes nodes and max_edges edges.
        Options: isa ('auto', 'avx512', 'avx2', 'neon', 'scalar', 'generic'),
        keep_attention, validate_inputs (reject NaN/Inf in x), pin_first_cpu."""
        return Plan(self, max_nodes, max_edges, threads=threads, **options)

    def graph(self, max_nodes, max_edges):
        """An empty Graph for this model; fill it with graph.set(edge_index)."""
        return Graph(self, max_nodes, max_edges)

    def __repr__(self):
        return "<graphkern.Model %d layers, %d -> %d features>" % (
            self.num_layers, self.in_features, self.out_features)


class Graph(_graphkern.Graph):
    """Graph(model, max_nodes, max_edges): CSR built once by set(edge_index,
    edge_attr=None, num_nodes=None), then given to plan.infer(x, graph=g)
    for any number of calls (by any number of plans)."""

    __slots__ = ()

    def __repr__(self):
        return "<graphkern.Graph %d nodes, %d edges (max %d, %d)>" % (
            self.num_nodes, self.num_edges, self.max_nodes, self.max_edges)


class Plan(_graphkern.Plan):
    """Plan(model, max_nodes, max_edges, threads=1, ...): kernels and buffers
    for one caller. infer(x, edge_index, edge_attr=None, out=None, graph=None)
    runs the model; infer_async(...) awaits it from asyncio."""

    __slots__ = ("_lock",)

    async def infer_async(self, x, edge_index=None, edge_attr=None, *, out=None,
                          graph=None):
        """Await infer(...) run in a worker thread. Calls on one plan wait
        their turn. Cancellation-safe: a cancelled call returns (raises
        CancelledError) only after the worker is done with the plan and the
        buffers, so they can be reused at once."""
        return await _infer_async(self, x, edge_index, edge_attr, out, graph)

    def run(self, inputs):
        """run({name: tensor}) -> {name: array}: a format-2 model (see
        graphkern.export) with its inputs by name. torch tensors are read in
        place (CPU, contiguous); outputs are numpy arrays (or flat memoryviews
        without numpy) of the model's output shapes."""
        given = {}
        for name, v in inputs.items():
            if hasattr(v, "detach") and hasattr(v, "numpy"):
                v = v.detach().contiguous().numpy()
            given[name] = v
        out = {}
        for name, (flat, shape) in self._run(given).items():
            out[name] = flat.reshape(shape) if hasattr(flat, "reshape") else flat
        return out

    def __repr__(self):
        return "<graphkern.Plan max %d nodes, %d edges; kernels %s>" % (
            self.max_nodes, self.max_edges, ", ".join(self.kernels))
