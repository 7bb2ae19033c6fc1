/* graphkern Plan: a gk_plan plus a graph of its own, so that
 * infer(x, edge_index) needs no graph object. The hot path: arguments are
 * checked through the buffer protocol (no copy), then the CSR build and the
 * inference run with the GIL released. A plan serves one call at a time:
 * a second thread gets RuntimeError instead of a race or a deadlock. */
#include "pygk.h"

#include <string.h>
#include <time.h>

static int parse_isa(PyObject *obj, gk_isa *isa) {
    if (!obj || obj == Py_None) return 0;
    const char *s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : NULL;
    if (!s) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "isa must be a str");
        return -1;
    }
    gk_error err;
    if (gk_isa_from_name(s, isa, &err) == GK_OK) return 0;
    PyErr_Format(PyExc_ValueError, "isa: %s", err.message);
    return -1;
}

static int plan_init(PyGkPlan *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"model", "max_nodes", "max_edges", "threads", "isa",
                             "keep_attention", "validate_inputs", "pin_first_cpu", NULL};
    PyGkModel *model;
    Py_ssize_t max_nodes, max_edges;
    PyObject *isa = NULL;
    gk_plan_options o = gk_plan_default_options();
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!nn|$iOppi:Plan", kwlist,
                                     &PyGkModel_Type, &model, &max_nodes, &max_edges,
                                     &o.threads, &isa, &o.keep_attention,
                                     &o.validate_inputs, &o.pin_first_cpu))
        return -1;
    if (parse_isa(isa, &o.isa) < 0) return -1;
    if (self->plan) {
        PyErr_SetString(PyExc_RuntimeError, "Plan is already initialized");
        return -1;
    }
    if (!model->model || max_nodes < 1 || max_edges < 0) {
        PyErr_SetString(PyExc_ValueError, model->model ? "max_nodes must be >= 1 and "
                        "max_edges >= 0" : "the model is not initialized");
        return -1;
    }
    gk_error err;
    gk_status st;
    Py_BEGIN_ALLOW_THREADS
    st = gk_plan_create(model->model, (size_t)max_nodes, (size_t)max_edges, &o,
                        &self->plan, &err);
    /* a format-2 model with several edge sets has no single graph: run() */
    if (st == GK_OK && (gk_model_version(model->model) == 1 ||
                        gk_model_num_inputs(model->model) > 0))
        st = gk_graph_create(model->model, (size_t)max_nodes, (size_t)max_edges,
                             &self->graph, &err);
    if (st == GK_EUNSUPPORTED && gk_model_version(model->model) == 2) st = GK_OK;
    Py_END_ALLOW_THREADS
    if (st != GK_OK) {
        gk_plan_free(self->plan);
        self->plan = NULL;
        pygk_raise(st, &err);
        return -1;
    }
    self->owner = (PyGkModel *)Py_NewRef(model);
    self->max_nodes = (size_t)max_nodes;
    self->max_edges = (size_t)max_edges;
    return 0;
}

static void plan_dealloc(PyGkPlan *self) {
    gk_graph_free(self->graph);
    gk_plan_free(self->plan);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The output: `out` checked (writable float32 [N, out]) or a new array. */
static PyObject *get_output(PyGkPlan *self, PyObject *out, size_t nodes,
                            pygk_array *view, float **y) {
    size_t width = (size_t)gk_model_out_features(self->owner->model);
    if (!out || out == Py_None) return pygk_new_output(nodes, width, y);
    if (pygk_get_array(out, "out", PYGK_F32, width, 1, view) < 0) return NULL;
    if (view->rows != nodes) {
        PyErr_Format(PyExc_ValueError, "out has %zu rows, x has %zu (out must be "
                     "float32 [%zu, %zu])", view->rows, nodes, nodes, width);
        pygk_release_array(view);
        return NULL;
    }
    *y = view->view.buf;
    return Py_NewRef(out);
}

typedef struct {
    PyObject *x, *edge_index, *edge_attr, *out, *graph;
} infer_args;

static int begin(PyGkPlan *self) {
    if (!self->plan) {
        PyErr_SetString(PyExc_RuntimeError, "Plan.__init__ was not called");
        return -1;
    }
    if (self->in_use) {
        PyErr_SetString(PyExc_RuntimeError, "the plan is in use by another thread: "
                        "a plan runs one inference at a time (use a plan per thread)");
        return -1;
    }
    return 0;
}

/* The graph= path: check the Graph, x's rows against it. */
static PyGkGraph *given_graph(const infer_args *a, size_t nodes) {
    if (!PyObject_TypeCheck(a->graph, &PyGkGraph_Type)) {
        PyErr_Format(PyExc_TypeError, "graph must be a graphkern Graph, got %.80s",
                     Py_TYPE(a->graph)->tp_name);
        return NULL;
    }
    PyGkGraph *g = (PyGkGraph *)a->graph;
    if ((a->edge_index && a->edge_index != Py_None) ||
        (a->edge_attr && a->edge_attr != Py_None)) {
        PyErr_SetString(PyExc_TypeError, "pass either graph= or edge_index/edge_attr");
        return NULL;
    }
    if (!g->graph || g->writing) {
        PyErr_SetString(PyExc_RuntimeError, g->graph ? "the graph is being set() by "
                        "another thread" : g->keeper ? "the graph was committed or "
                        "released (a publisher's slot)" : "Graph.__init__ was not called");
        return NULL;
    }
    if (gk_graph_num_nodes(g->graph) != nodes) {
        PyErr_Format(PyExc_ValueError, "x has %zu rows, the graph has %zu nodes", nodes,
                     gk_graph_num_nodes(g->graph));
        return NULL;
    }
    return g;
}

static PyObject *run(PyGkPlan *self, const infer_args *a) {
    const gk_model *m = self->owner->model;
    pygk_array x, yview = {0};
    pygk_coo coo = {0};
    PyGkGraph *g = NULL;
    PyObject *result = NULL;
    float *y = NULL;
    if (pygk_get_array(a->x, "x", PYGK_F32, (size_t)gk_model_in_features(m), 0, &x) < 0)
        return NULL;
    if (x.rows == 0) {
        PyErr_SetString(PyExc_ValueError, "x has no rows: a graph needs at least one node");
        goto done;
    }
    if (!self->graph && !(a->graph && a->graph != Py_None)) {
        PyErr_SetString(PyExc_TypeError, "this model has several edge sets: call "
                        "run({name: tensor, ...})");
        goto done;
    }
    if (a->graph && a->graph != Py_None) {
        if (!(g = given_graph(a, x.rows))) goto done;
    } else if (!a->edge_index) {
        PyErr_SetString(PyExc_TypeError, "infer() needs edge_index or graph=");
        goto done;
    } else if (pygk_get_coo(m, a->edge_index, a->edge_attr, &coo) < 0) {
        goto done;
    }
    if (!(result = get_output(self, a->out, x.rows, &yview, &y))) goto done;

    gk_error err;
    gk_status st;
    self->in_use = 1;
    if (g) g->readers++;
    Py_BEGIN_ALLOW_THREADS
    if (g) {
        st = gk_infer(self->plan, g->graph, x.view.buf, y, &err);
    } else {
        st = gk_graph_set_coo(self->graph, x.rows, coo.index.rows, coo.index.view.buf,
                              coo.index.index_type,
                              coo.attr.held ? coo.attr.view.buf : NULL, &err);
        if (st == GK_OK) st = gk_infer(self->plan, self->graph, x.view.buf, y, &err);
    }
    Py_END_ALLOW_THREADS
    if (g) g->readers--;
    self->in_use = 0;
    if (st != GK_OK) {
        Py_CLEAR(result);
        pygk_raise(st, &err);
    }
done:
    pygk_release_array(&x);
    pygk_release_array(&yview);
    pygk_release_coo(&coo);
    return result;
}

static PyObject *plan_infer(PyGkPlan *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames) {
    static const char *const names[] = {"x", "edge_index", "edge_attr", "out", "graph"};
    PyObject *v[5];
    if (pygk_parse("infer", args, nargs, kwnames, names, 5, 3, v) < 0) return NULL;
    infer_args a = {v[0], v[1], v[2], v[3], v[4]};
    if (!a.x) {
        PyErr_SetString(PyExc_TypeError, "infer() missing required argument 'x'");
        return NULL;
    }
    if (begin(self) < 0) return NULL;
    return run(self, &a);
}

/* infer_batch(xs, graphs, outs=None): gk_infer_batch over prebuilt Graphs,
 * spread across the plan's threads with the GIL released. */
typedef struct {
    Py_ssize_t count;
    pygk_array *x, *y;            /* [count]                                */
    PyGkGraph **graph;
    const gk_graph **graphs;
    const float **xs;
    float **ys;
} batch_args;

static void release_batch(batch_args *b) {
    for (Py_ssize_t i = 0; b->x && i < b->count; i++) {
        pygk_release_array(&b->x[i]);
        pygk_release_array(&b->y[i]);
    }
    PyMem_Free(b->x);
    PyMem_Free(b->y);
    PyMem_Free(b->graph);
    PyMem_Free((void *)b->graphs);
    PyMem_Free((void *)b->xs);
    PyMem_Free(b->ys);
}

/* Item i's Graph, x and output (out[i] or a new array) into b and result. */
static int batch_item(PyGkPlan *self, batch_args *b, Py_ssize_t i, PyObject *xobj,
                      PyObject *gobj, PyObject *outobj, PyObject *result) {
    const gk_model *m = self->owner->model;
    char name[32];
    snprintf(name, sizeof name, "xs[%zd]", i);
    if (pygk_get_array(xobj, name, PYGK_F32, (size_t)gk_model_in_features(m), 0,
                       &b->x[i]) < 0)
        return -1;
    infer_args a = {xobj, NULL, NULL, outobj, gobj};
    PyGkGraph *g = given_graph(&a, b->x[i].rows);
    if (!g) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_Format(type, "graphs[%zd]: %S", i, value ? value : Py_None);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return -1;
    }
    PyObject *y = get_output(self, outobj, b->x[i].rows, &b->y[i], &b->ys[i]);
    if (!y) return -1;
    PyList_SET_ITEM(result, i, y);
    b->graph[i] = g;
    b->graphs[i] = g->graph;
    b->xs[i] = b->x[i].view.buf;
    return 0;
}

static PyObject *plan_infer_batch(PyGkPlan *self, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames) {
    static const char *const names[] = {"xs", "graphs", "outs"};
    PyObject *v[3];
    if (pygk_parse("infer_batch", args, nargs, kwnames, names, 3, 3, v) < 0) return NULL;
    if (!v[0] || !v[1]) {
        PyErr_SetString(PyExc_TypeError, "infer_batch() needs xs and graphs");
        return NULL;
    }
    if (begin(self) < 0) return NULL;
    PyObject *xs = PySequence_Fast(v[0], "xs must be a sequence of float32 arrays");
    PyObject *gs = xs ? PySequence_Fast(v[1], "graphs must be a sequence of Graph") : NULL;
    PyObject *outs = gs && v[2] && v[2] != Py_None
                         ? PySequence_Fast(v[2], "outs must be a sequence of arrays or None")
                         : NULL;
    PyObject *result = NULL;
    batch_args b = {0};
    if (!gs || (v[2] && v[2] != Py_None && !outs)) goto done;
    b.count = PySequence_Fast_GET_SIZE(xs);
    if (PySequence_Fast_GET_SIZE(gs) != b.count ||
        (outs && PySequence_Fast_GET_SIZE(outs) != b.count)) {
        PyErr_Format(PyExc_ValueError, "xs has %zd items, graphs %zd%s: they must match",
                     b.count, PySequence_Fast_GET_SIZE(gs), outs ? " (and outs)" : "");
        goto done;
    }
    size_t n = (size_t)(b.count > 0 ? b.count : 1);
    b.x = PyMem_Calloc(n, sizeof *b.x);
    b.y = PyMem_Calloc(n, sizeof *b.y);
    b.graph = PyMem_Calloc(n, sizeof *b.graph);
    b.graphs = PyMem_Calloc(n, sizeof *b.graphs);
    b.xs = PyMem_Calloc(n, sizeof *b.xs);
    b.ys = PyMem_Calloc(n, sizeof *b.ys);
    result = PyList_New(b.count);
    if (!b.x || !b.y || !b.graph || !b.graphs || !b.xs || !b.ys || !result) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        Py_CLEAR(result);
        goto done;
    }
    for (Py_ssize_t i = 0; i < b.count; i++)
        if (batch_item(self, &b, i, PySequence_Fast_GET_ITEM(xs, i),
                       PySequence_Fast_GET_ITEM(gs, i),
                       outs ? PySequence_Fast_GET_ITEM(outs, i) : NULL, result) < 0) {
            Py_CLEAR(result);
            goto done;
        }
    for (Py_ssize_t i = 0; i < b.count; i++)  /* two items, one output: a race */
        for (Py_ssize_t j = 0; j < i; j++)
            if (b.ys[i] == b.ys[j]) {
                PyErr_Format(PyExc_ValueError, "outs[%zd] and outs[%zd] are the same "
                             "buffer", j, i);
                Py_CLEAR(result);
                goto done;
            }
    gk_error err;
    gk_status st;
    self->in_use = 1;
    for (Py_ssize_t i = 0; i < b.count; i++) b.graph[i]->readers++;
    Py_BEGIN_ALLOW_THREADS
    st = gk_infer_batch(self->plan, (size_t)b.count, b.graphs, b.xs, b.ys, &err);
    Py_END_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < b.count; i++) b.graph[i]->readers--;
    self->in_use = 0;
    if (st != GK_OK) {
        Py_CLEAR(result);
        pygk_raise(st, &err);
    }
done:
    release_batch(&b);
    Py_XDECREF(xs);
    Py_XDECREF(gs);
    Py_XDECREF(outs);
    return result;
}

static PyObject *plan_describe(PyGkPlan *self, PyObject *unused) {
    (void)unused;
    if (begin(self) < 0) return NULL;
    size_t need = gk_plan_describe(self->plan, NULL, 0) + 1;
    char *buf = PyMem_Malloc(need);
    if (!buf) return PyErr_NoMemory();
    gk_plan_describe(self->plan, buf, need);
    PyObject *text = PyUnicode_FromString(buf);
    PyMem_Free(buf);
    return text;
}

static PyObject *get_kernels(PyGkPlan *self, void *closure) {
    (void)closure;
    if (begin(self) < 0) return NULL;
    int n = gk_model_num_layers(self->owner->model);
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        const char *kernel = gk_plan_layer_kernel(self->plan, i);
        PyObject *name = PyUnicode_FromString(kernel ? kernel : "?");
        if (!name) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, name);
    }
    return list;
}

static int layer_arg(PyGkPlan *self, PyObject *arg, int *layer) {
    if (begin(self) < 0) return -1;
    long l = PyLong_AsLong(arg);
    if (l == -1 && PyErr_Occurred()) return -1;
    if (l < 0 || l >= gk_model_num_layers(self->owner->model)) {
        PyErr_Format(PyExc_IndexError, "layer %ld out of range (the model has %d)", l,
                     gk_model_num_layers(self->owner->model));
        return -1;
    }
    *layer = (int)l;
    return 0;
}

static PyObject *plan_attention(PyGkPlan *self, PyObject *arg) {
    int layer;
    if (layer_arg(self, arg, &layer) < 0) return NULL;
    size_t edges = 0;
    int heads = 0;
    const float *alpha = gk_plan_attention(self->plan, layer, &edges, &heads);
    if (!alpha) Py_RETURN_NONE;
    float *copy;
    PyObject *result = pygk_new_output(edges, (size_t)heads, &copy);
    if (result) memcpy(copy, alpha, edges * (size_t)heads * sizeof(float));
    return result;
}

/* Private: time the C calls on prebuilt arguments, for the overhead
 * measurement (python/bench_overhead.py, docs/python.md). `source` is a
 * Graph (gk_infer alone) or an edge_index (gk_graph_set_coo + gk_infer on
 * the plan's graph, what infer(x, edge_index) does). Returns each call's
 * duration in ns. */
static PyObject *plan_bench_c(PyGkPlan *self, PyObject *args) {
    PyObject *source, *xobj, *outobj;
    Py_ssize_t iterations;
    if (!PyArg_ParseTuple(args, "OOOn:_bench_c", &source, &xobj, &outobj, &iterations) ||
        begin(self) < 0)
        return NULL;
    const gk_model *m = self->owner->model;
    int use_graph = PyObject_TypeCheck(source, &PyGkGraph_Type);
    pygk_array x, y;
    pygk_coo coo = {0};
    if (!use_graph && pygk_get_coo(m, source, NULL, &coo) < 0) return NULL;
    if (pygk_get_array(xobj, "x", PYGK_F32, (size_t)gk_model_in_features(m), 0, &x) < 0) {
        pygk_release_coo(&coo);
        return NULL;
    }
    if (pygk_get_array(outobj, "out", PYGK_F32, (size_t)gk_model_out_features(m), 1, &y) < 0) {
        pygk_release_coo(&coo);
        pygk_release_array(&x);
        return NULL;
    }
    gk_graph *g = use_graph ? ((PyGkGraph *)source)->graph : self->graph;
    int64_t *ns = PyMem_Malloc((size_t)(iterations > 0 ? iterations : 1) * sizeof *ns);
    gk_status st = GK_OK;
    gk_error err;
    if (ns) {
        self->in_use = 1;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < iterations && st == GK_OK; i++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            if (!use_graph)
                st = gk_graph_set_coo(g, x.rows, coo.index.rows, coo.index.view.buf,
                                      coo.index.index_type, NULL, &err);
            if (st == GK_OK) st = gk_infer(self->plan, g, x.view.buf, y.view.buf, &err);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            ns[i] = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
        }
        Py_END_ALLOW_THREADS
        self->in_use = 0;
    }
    pygk_release_coo(&coo);
    pygk_release_array(&x);
    pygk_release_array(&y);
    if (!ns) return PyErr_NoMemory();
    PyObject *list = st == GK_OK ? PyList_New(iterations) : pygk_raise(st, &err);
    for (Py_ssize_t i = 0; list && i < iterations; i++) {
        PyObject *v = PyLong_FromLongLong(ns[i]);
        if (!v) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, v);
    }
    PyMem_Free(ns);
    return list;
}

static PyObject *get_model(PyGkPlan *self, void *closure) {
    (void)closure;
    return Py_NewRef(self->owner ? (PyObject *)self->owner : Py_None);
}
static PyObject *get_max_nodes(PyGkPlan *self, void *closure) {
    (void)closure;
    return PyLong_FromSize_t(self->max_nodes);
}
static PyObject *get_max_edges(PyGkPlan *self, void *closure) {
    (void)closure;
    return PyLong_FromSize_t(self->max_edges);
}

static PyMethodDef plan_methods[] = {
    {"infer", (PyCFunction)(void (*)(void))plan_infer, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("infer(x, edge_index=None, edge_attr=None, *, out=None, graph=None)\n\n"
               "y = model(graph, x). x float32 [N, F]; either edge_index int64/int32 "
               "[2, E] (+ edge_attr float32 [E, D]) or graph=Graph. out: a writable "
               "float32 [N, out] buffer written in place and returned; else a new "
               "numpy array (a 2-D memoryview without numpy). Releases the GIL.")},
    {"infer_batch", (PyCFunction)(void (*)(void))plan_infer_batch,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("infer_batch(xs, graphs, outs=None) -> list\n\n"
               "ys[b] = model(graphs[b], xs[b]) for every b, in one call spread "
               "across the plan's threads (gk_infer_batch); each y is bitwise the "
               "one infer() gives. graphs: prebuilt Graph objects; outs: writable "
               "float32 buffers written in place, or None. Releases the GIL.")},
    {"_run", (PyCFunction)pygk_plan_run, METH_O,
     PyDoc_STR("_run({name: buffer}) -> {name: (flat float32 array, shape)}: a "
               "format-2 model's inputs by name (gk_infer_named). Releases the GIL.")},
    {"describe", (PyCFunction)plan_describe, METH_NOARGS,
     PyDoc_STR("describe() -> str: per layer, the kernel chosen and why.")},
    {"attention", (PyCFunction)plan_attention, METH_O,
     PyDoc_STR("attention(layer) -> float32 [edges, heads] copy of the last call's "
               "attention weights (keep_attention=True), in the order of "
               "Graph.layer_edges(layer); None if not kept.")},
    {"_bench_c", (PyCFunction)plan_bench_c, METH_VARARGS,
     PyDoc_STR("_bench_c(graph_or_edge_index, x, out, iterations) -> [ns per call]")},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef plan_getset[] = {
    {"kernels", (getter)get_kernels, NULL, "kernel chosen per layer", NULL},
    {"model", (getter)get_model, NULL, "the model", NULL},
    {"max_nodes", (getter)get_max_nodes, NULL, "node capacity", NULL},
    {"max_edges", (getter)get_max_edges, NULL, "edge capacity", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyGkPlan_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "graphkern._graphkern.Plan",
    .tp_doc = PyDoc_STR("Plan(model, max_nodes, max_edges, *, threads=1, isa='auto', "
                        "keep_attention=False, validate_inputs=True, pin_first_cpu=-1)"),
    .tp_basicsize = sizeof(PyGkPlan),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)plan_init,
    .tp_dealloc = (destructor)plan_dealloc,
    .tp_methods = plan_methods,
    .tp_getset = plan_getset,
};
