/* Correlation graphs for trading (docs/correlation.md) from Python:
 *
 *   Correlation  gk_corr: a rolling window of returns -> Pearson
 *                correlations -> edges into a Graph (build_graph).
 *   Publisher    gk_publisher: one writer publishes graphs, readers take
 *                the latest as a Snapshot, no lock on either side.
 *   Snapshot     a pinned published graph (.graph, .user, .version); give
 *                it back with release() or a with-block.
 *
 * The GIL is released in push, recompute, build_graph; acquire/release and
 * begin/commit are a few atomics and keep it. */
#include "pygk.h"

#include <string.h>

/* ---- Correlation --------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    gk_corr *corr;
    int in_use;
} PyGkCorr;

static int corr_init(PyGkCorr *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"num_assets", "window", "recompute_every", NULL};
    Py_ssize_t n, window;
    gk_corr_options o = gk_corr_default_options();
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nn|$i:Correlation", kwlist, &n, &window,
                                     &o.recompute_every))
        return -1;
    if (self->corr) {
        PyErr_SetString(PyExc_RuntimeError, "Correlation is already initialized");
        return -1;
    }
    if (n < 0 || window < 0) {
        PyErr_SetString(PyExc_ValueError, "num_assets and window must be >= 2");
        return -1;
    }
    gk_error err;
    gk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gk_corr_create((size_t)n, (size_t)window, &o, &self->corr, &err);
    Py_END_ALLOW_THREADS
    if (st != GK_OK) {
        pygk_raise(st, &err);
        return -1;
    }
    return 0;
}

static void corr_dealloc(PyGkCorr *self) {
    gk_corr_free(self->corr);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int corr_begin(PyGkCorr *self) {
    if (!self->corr) {
        PyErr_SetString(PyExc_RuntimeError, "Correlation.__init__ was not called");
        return -1;
    }
    if (self->in_use) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the Correlation is in use by another thread (one writer)");
        return -1;
    }
    return 0;
}

static PyObject *corr_push(PyGkCorr *self, PyObject *returns) {
    if (corr_begin(self) < 0) return NULL;
    size_t n = gk_corr_num_assets(self->corr);
    pygk_array r;
    if (pygk_get_array(returns, "returns", PYGK_F32, n, 0, &r) < 0) return NULL;
    if (r.rows != 1) {
        pygk_release_array(&r);
        PyErr_Format(PyExc_ValueError, "returns must hold %zu floats (one per asset), "
                     "got %zu", n, r.rows * n);
        return NULL;
    }
    gk_error err;
    gk_status st;
    self->in_use = 1;
    Py_BEGIN_ALLOW_THREADS
    st = gk_corr_push(self->corr, r.view.buf, &err);
    Py_END_ALLOW_THREADS
    self->in_use = 0;
    pygk_release_array(&r);
    if (st != GK_OK) return pygk_raise(st, &err);
    Py_RETURN_NONE;
}

static PyObject *corr_recompute(PyGkCorr *self, PyObject *unused) {
    (void)unused;
    if (corr_begin(self) < 0) return NULL;
    self->in_use = 1;
    Py_BEGIN_ALLOW_THREADS
    gk_corr_recompute(self->corr);
    Py_END_ALLOW_THREADS
    self->in_use = 0;
    Py_RETURN_NONE;
}

static PyObject *corr_matrix(PyGkCorr *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames) {
    static const char *const names[] = {"out"};
    PyObject *out;
    if (pygk_parse("matrix", args, nargs, kwnames, names, 1, 1, &out) < 0 ||
        corr_begin(self) < 0)
        return NULL;
    size_t n = gk_corr_num_assets(self->corr);
    float *rho;
    pygk_array view = {0};
    PyObject *result;
    if (out && out != Py_None) {
        if (pygk_get_array(out, "out", PYGK_F32, n, 1, &view) < 0) return NULL;
        if (view.rows != n) {
            pygk_release_array(&view);
            PyErr_Format(PyExc_ValueError, "out must be float32 [%zu, %zu]", n, n);
            return NULL;
        }
        rho = view.view.buf;
        result = Py_NewRef(out);
    } else if (!(result = pygk_new_output(n, n, &rho))) {
        return NULL;
    }
    self->in_use = 1;
    Py_BEGIN_ALLOW_THREADS
    gk_corr_matrix(self->corr, rho);
    Py_END_ALLOW_THREADS
    self->in_use = 0;
    pygk_release_array(&view);
    return result;
}

static PyObject *corr_valid(PyGkCorr *self, PyObject *arg) {
    if (corr_begin(self) < 0) return NULL;
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i < 0 || (size_t)i >= gk_corr_num_assets(self->corr)) {
        PyErr_Format(PyExc_IndexError, "asset %zd out of range", i);
        return NULL;
    }
    return PyBool_FromLong(gk_corr_valid(self->corr, (size_t)i));
}

static PyObject *corr_build_graph(PyGkCorr *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"graph", "threshold", "top_k", "symmetric", NULL};
    PyGkGraph *g;
    gk_corr_rule rule = {0.0f, 0, 0};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|$fip:build_graph", kwlist,
                                     &PyGkGraph_Type, &g, &rule.threshold, &rule.top_k,
                                     &rule.symmetric) ||
        corr_begin(self) < 0)
        return NULL;
    if (!g->graph || g->readers || g->writing) {
        PyErr_SetString(PyExc_RuntimeError, g->graph ? "the graph is in use by another "
                        "thread" : "the graph was committed, released or not initialized");
        return NULL;
    }
    gk_error err;
    gk_status st;
    size_t edges = 0;
    self->in_use = 1;
    g->writing = 1;
    Py_BEGIN_ALLOW_THREADS
    st = gk_corr_build_graph(self->corr, &rule, g->graph, &edges, &err);
    Py_END_ALLOW_THREADS
    g->writing = 0;
    self->in_use = 0;
    if (st != GK_OK) return pygk_raise(st, &err);
    return PyLong_FromSize_t(edges);
}

#define CORR_GETTER(name, expr)                                          \
    static PyObject *get_##name(PyGkCorr *self, void *closure) {         \
        (void)closure;                                                   \
        if (!self->corr) return PyLong_FromLong(0);                      \
        return expr;                                                     \
    }
CORR_GETTER(num_assets, PyLong_FromSize_t(gk_corr_num_assets(self->corr)))
CORR_GETTER(count, PyLong_FromSize_t(gk_corr_count(self->corr)))
CORR_GETTER(ticks, PyLong_FromUnsignedLongLong(gk_corr_ticks(self->corr)))

static PyMethodDef corr_methods[] = {
    {"push", (PyCFunction)corr_push, METH_O,
     PyDoc_STR("push(returns): add one tick, float32 [num_assets]; NaN/Inf = no data.")},
    {"recompute", (PyCFunction)corr_recompute, METH_NOARGS,
     PyDoc_STR("recompute(): rebuild the sums from the window (bounds drift).")},
    {"matrix", (PyCFunction)(void (*)(void))corr_matrix, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("matrix(out=None) -> float32 [N, N] correlations (0 for invalid assets).")},
    {"valid", (PyCFunction)corr_valid, METH_O,
     PyDoc_STR("valid(asset) -> bool: the asset has correlations now.")},
    {"build_graph", (PyCFunction)(void (*)(void))corr_build_graph,
     METH_VARARGS | METH_KEYWORDS,
     PyDoc_STR("build_graph(graph, *, threshold=0.0, top_k=0, symmetric=False) -> "
               "edges: rebuild graph (a Graph, or a publisher's begin()) with edges "
               "j -> i by |rho| threshold and/or top-k per target; edge_attr = rho "
               "when the model has edge_dim 1.")},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef corr_getset[] = {
    {"num_assets", (getter)get_num_assets, NULL, "N", NULL},
    {"count", (getter)get_count, NULL, "rows in the window", NULL},
    {"ticks", (getter)get_ticks, NULL, "pushes since creation", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyGkCorr_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "graphkern._graphkern.Correlation",
    .tp_doc = PyDoc_STR("Correlation(num_assets, window, *, recompute_every=1024): "
                        "rolling Pearson correlations and graphs from them."),
    .tp_basicsize = sizeof(PyGkCorr),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)corr_init,
    .tp_dealloc = (destructor)corr_dealloc,
    .tp_methods = corr_methods,
    .tp_getset = corr_getset,
};

/* ---- Publisher and Snapshot -------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyGkModel *owner;
    gk_publisher *pub;
    size_t max_nodes, max_edges, user_bytes;
    PyGkGraph *writing;    /* the Graph from the last begin(), until commit */
    Py_ssize_t held;       /* snapshots not released */
} PyGkPublisher;

typedef struct {
    PyObject_HEAD
    PyGkPublisher *pub;
    gk_snapshot snap;
    PyGkGraph *graph;
    int held;
} PyGkSnapshot;

static int pub_init(PyGkPublisher *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"model", "max_nodes", "max_edges", "slots", "user_bytes", NULL};
    PyGkModel *model;
    Py_ssize_t max_nodes, max_edges, user_bytes = 0;
    int slots = 4;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!nn|$in:Publisher", kwlist,
                                     &PyGkModel_Type, &model, &max_nodes, &max_edges,
                                     &slots, &user_bytes))
        return -1;
    if (self->pub) {
        PyErr_SetString(PyExc_RuntimeError, "Publisher is already initialized");
        return -1;
    }
    if (!model->model || max_nodes < 1 || max_edges < 0 || user_bytes < 0) {
        PyErr_SetString(PyExc_ValueError, "max_nodes must be >= 1, max_edges and "
                        "user_bytes >= 0, and the model initialized");
        return -1;
    }
    gk_error err;
    gk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gk_publisher_create(model->model, (size_t)max_nodes, (size_t)max_edges, slots,
                             (size_t)user_bytes, &self->pub, &err);
    Py_END_ALLOW_THREADS
    if (st != GK_OK) {
        pygk_raise(st, &err);
        return -1;
    }
    self->owner = (PyGkModel *)Py_NewRef(model);
    self->max_nodes = (size_t)max_nodes;
    self->max_edges = (size_t)max_edges;
    self->user_bytes = (size_t)user_bytes;
    return 0;
}

/* Snapshots and begin()'s Graph hold a reference, so this runs only when
 * none is alive: gk_publisher_free's precondition. */
static void pub_dealloc(PyGkPublisher *self) {
    gk_publisher_free(self->pub);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int pub_ready(PyGkPublisher *self) {
    if (self->pub) return 1;
    PyErr_SetString(PyExc_RuntimeError, "Publisher.__init__ was not called");
    return 0;
}

static PyObject *user_view(PyObject *keeper, const void *user, size_t bytes, int writable) {
    if (!bytes) Py_RETURN_NONE;
    /* The memory lives as long as the publisher; the view is valid while
     * the slot is held (the docs say so). */
    (void)keeper;
    return PyMemoryView_FromMemory((char *)(uintptr_t)user, (Py_ssize_t)bytes,
                                   writable ? PyBUF_WRITE : PyBUF_READ);
}

static PyObject *pub_begin(PyGkPublisher *self, PyObject *unused) {
    (void)unused;
    if (!pub_ready(self)) return NULL;
    if (self->writing) {
        PyErr_SetString(PyExc_RuntimeError, "begin() again before commit()");
        return NULL;
    }
    void *user = NULL;
    gk_graph *g = gk_publisher_begin(self->pub, &user);
    if (!g) Py_RETURN_NONE;  /* every free slot is held by readers */
    PyGkGraph *graph = pygk_borrowed_graph(self->owner, g, (PyObject *)self,
                                           self->max_nodes, self->max_edges);
    if (!graph) return NULL;
    PyObject *mv = user_view((PyObject *)self, user, self->user_bytes, 1);
    if (!mv) {
        Py_DECREF(graph);
        return NULL;
    }
    self->writing = (PyGkGraph *)Py_NewRef(graph);
    return Py_BuildValue("(NN)", graph, mv);
}

static PyObject *pub_commit(PyGkPublisher *self, PyObject *unused) {
    (void)unused;
    if (!pub_ready(self)) return NULL;
    if (!self->writing) {
        PyErr_SetString(PyExc_RuntimeError, "commit() without begin()");
        return NULL;
    }
    if (pygk_detach_graph(self->writing) < 0) return NULL;
    Py_CLEAR(self->writing);
    return PyLong_FromUnsignedLongLong(gk_publisher_commit(self->pub));
}

static PyObject *pub_acquire(PyGkPublisher *self, PyObject *unused) {
    (void)unused;
    if (!pub_ready(self)) return NULL;
    PyGkSnapshot *s = PyObject_New(PyGkSnapshot, &PyGkSnapshot_Type);
    if (!s) return NULL;
    s->pub = (PyGkPublisher *)Py_NewRef(self);
    s->graph = NULL;
    s->held = 0;
    if (!gk_publisher_acquire(self->pub, &s->snap)) {
        Py_DECREF(s);
        Py_RETURN_NONE;  /* nothing published yet */
    }
    s->held = 1;
    self->held++;
    s->graph = pygk_borrowed_graph(self->owner, (gk_graph *)(uintptr_t)s->snap.graph,
                                   (PyObject *)self, self->max_nodes, self->max_edges);
    if (!s->graph) {
        Py_DECREF(s);
        return NULL;
    }
    return (PyObject *)s;
}

static PyObject *get_version(PyGkPublisher *self, void *closure) {
    (void)closure;
    return PyLong_FromUnsignedLongLong(self->pub ? gk_publisher_version(self->pub) : 0);
}

static PyMethodDef pub_methods[] = {
    {"begin", (PyCFunction)pub_begin, METH_NOARGS,
     PyDoc_STR("begin() -> (graph, user) to fill (graph.set or Correlation.build_graph; "
               "user: writable memoryview of user_bytes or None), or None when every "
               "free slot is held by readers. Writer thread only.")},
    {"commit", (PyCFunction)pub_commit, METH_NOARGS,
     PyDoc_STR("commit() -> version: publish the graph from begin(); it becomes "
               "unusable for the writer.")},
    {"acquire", (PyCFunction)pub_acquire, METH_NOARGS,
     PyDoc_STR("acquire() -> Snapshot of the latest publication, or None before the "
               "first. Any thread; never blocks.")},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pub_getset[] = {
    {"version", (getter)get_version, NULL, "publications so far", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyGkPublisher_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "graphkern._graphkern.Publisher",
    .tp_doc = PyDoc_STR("Publisher(model, max_nodes, max_edges, *, slots=4, "
                        "user_bytes=0): lock-free publication of graphs."),
    .tp_basicsize = sizeof(PyGkPublisher),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)pub_init,
    .tp_dealloc = (destructor)pub_dealloc,
    .tp_methods = pub_methods,
    .tp_getset = pub_getset,
};

static int snapshot_release_slot(PyGkSnapshot *s) {
    if (!s->held) return 0;
    if (s->graph && pygk_detach_graph(s->graph) < 0) return -1;
    gk_publisher_release(s->pub->pub, &s->snap);
    s->pub->held--;
    s->held = 0;
    return 0;
}

static void snapshot_dealloc(PyGkSnapshot *self) {
    if (self->held && self->graph && (self->graph->readers || self->graph->writing)) {
        /* Unreachable: a running plan holds a reference to the graph, not
         * to the snapshot; keep the slot pinned rather than race. */
    } else if (snapshot_release_slot(self) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    Py_XDECREF(self->graph);
    Py_XDECREF(self->pub);
    PyObject_Free(self);
}

static PyObject *snapshot_release(PyGkSnapshot *self, PyObject *unused) {
    (void)unused;
    if (snapshot_release_slot(self) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *snapshot_enter(PyGkSnapshot *self, PyObject *unused) {
    (void)unused;
    return Py_NewRef(self);
}

static PyObject *snapshot_exit(PyGkSnapshot *self, PyObject *args) {
    (void)args;
    if (snapshot_release_slot(self) < 0) return NULL;
    Py_RETURN_FALSE;
}

static PyObject *snap_graph(PyGkSnapshot *self, void *closure) {
    (void)closure;
    if (!self->held) {
        PyErr_SetString(PyExc_RuntimeError, "the snapshot was released");
        return NULL;
    }
    return Py_NewRef(self->graph);
}

static PyObject *snap_user(PyGkSnapshot *self, void *closure) {
    (void)closure;
    if (!self->held) {
        PyErr_SetString(PyExc_RuntimeError, "the snapshot was released");
        return NULL;
    }
    return user_view((PyObject *)self->pub, self->snap.user, self->pub->user_bytes, 0);
}

static PyObject *snap_version(PyGkSnapshot *self, void *closure) {
    (void)closure;
    return PyLong_FromUnsignedLongLong(self->snap.version);
}

static PyMethodDef snapshot_methods[] = {
    {"release", (PyCFunction)snapshot_release, METH_NOARGS,
     PyDoc_STR("release(): unpin the slot; .graph and .user become unusable.")},
    {"__enter__", (PyCFunction)snapshot_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)snapshot_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef snapshot_getset[] = {
    {"graph", (getter)snap_graph, NULL, "the published Graph (read-only)", NULL},
    {"user", (getter)snap_user, NULL, "read-only memoryview of the slot's user bytes",
     NULL},
    {"version", (getter)snap_version, NULL, "the publication's version", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyGkSnapshot_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "graphkern._graphkern.Snapshot",
    .tp_doc = PyDoc_STR("A pinned publication: .graph, .user, .version; release() or "
                        "use as a context manager."),
    .tp_basicsize = sizeof(PyGkSnapshot),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)snapshot_dealloc,
    .tp_methods = snapshot_methods,
    .tp_getset = snapshot_getset,
};
