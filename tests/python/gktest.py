"""Shared helpers for the Python tests: fixtures read with the standard
library only (no numpy needed), the PyG parity check, random graphs.

The tests run from CTest with PYTHONPATH=${build}/python and
GK_FIXTURES=tests/fixtures (see tests/CMakeLists.txt); standalone:
    PYTHONPATH=build/python python3 -m unittest discover tests/python
"""

import array
import json
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("GK_FIXTURES", os.path.join(HERE, "..", "fixtures"))

try:
    import numpy
except ImportError:
    numpy = None

TYPECODES = {"F32": "f", "F64": "d", "I64": "q", "I32": "i"}


def read_tensors(path):
    """{name: (dtype, shape, array.array)} of a safetensors file."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    data = buf[8 + n:]
    out = {}
    for name, e in header.items():
        a = array.array(TYPECODES[e["dtype"]])
        b0, b1 = e["data_offsets"]
        a.frombytes(data[b0:b1])
        out[name] = (e["dtype"], e["shape"], a)
    return out


def fixture_names():
    with open(os.path.join(FIXTURES, "index.json")) as f:
        return [c["name"] for c in json.load(f)["cases"]]


def model_path(name):
    return os.path.join(FIXTURES, name + ".model.safetensors")


def load_case(name):
    """(model path, io tensors) of fixture `name`."""
    return model_path(name), read_tensors(os.path.join(FIXTURES, name + ".io.safetensors"))


def rel_error(y, y_ref):
    """docs/architecture.md's measure: ||y - y_ref||inf / max(1, ||y_ref||inf)."""
    y, y_ref = list(y), list(y_ref)
    assert len(y) == len(y_ref), (len(y), len(y_ref))
    worst = max((abs(a - b) for a, b in zip(y, y_ref)), default=0.0)
    return worst / max(1.0, max((abs(b) for b in y_ref), default=0.0))


def flat(result):
    """The floats of an output, whatever its kind (numpy or memoryview)."""
    if numpy is not None and isinstance(result, numpy.ndarray):
        return result.ravel().tolist()
    return memoryview(result).cast("B").cast("f").tolist()


def random_graph(nodes, degree, features, seed=1):
    """x float32 [N, F] and edge_index int64 [2, N*degree] as array.arrays
    (flat), every node with `degree` random incoming edges."""
    rng = random.Random(seed)
    x = array.array("f", (rng.uniform(-1, 1) for _ in range(nodes * features)))
    src = array.array("q", (rng.randrange(nodes) for _ in range(nodes * degree)))
    dst = array.array("q", (i for i in range(nodes) for _ in range(degree)))
    return x, src + dst


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
