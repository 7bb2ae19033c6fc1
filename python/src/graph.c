/* graphkern Graph: a gk_graph rebuilt in place from COO by set(). A plan
 * given graph=... skips building CSR on every call. Several plans may read
 * one graph at once; set() while a plan reads it raises RuntimeError. */
#include "pygk.h"

#include <string.h>

int pygk_get_coo(const gk_model *model, PyObject *edge_index, PyObject *edge_attr,
                 pygk_coo *coo) {
    memset(coo, 0, sizeof *coo);
    if (pygk_get_array(edge_index, "edge_index", PYGK_INDEX, 0, 0, &coo->index) < 0)
        return -1;
    size_t dim = (size_t)gk_model_edge_dim(model);
    size_t edges = coo->index.rows;
    if (edge_attr == Py_None) edge_attr = NULL;
    if (dim == 0 && edge_attr) {
        PyErr_SetString(PyExc_ValueError,
                        "edge_attr given, but the model has no edge features (edge_dim 0)");
        goto fail;
    }
    if (dim > 0 && !edge_attr) {
        if (edges == 0) return 0;
        PyErr_Format(PyExc_ValueError, "edge_attr [E, %zu] float32 is required: the "
                     "model has edge_dim %zu", dim, dim);
        goto fail;
    }
    if (!edge_attr) return 0;
    if (pygk_get_array(edge_attr, "edge_attr", PYGK_F32, dim, 0, &coo->attr) < 0) goto fail;
    if (coo->attr.rows != edges) {
        PyErr_Format(PyExc_ValueError, "edge_attr has %zu rows, edge_index has %zu edges",
                     coo->attr.rows, edges);
        goto fail;
    }
    return 0;
fail:
    pygk_release_coo(coo);
    return -1;
}

void pygk_release_coo(pygk_coo *coo) {
    pygk_release_array(&coo->index);
    pygk_release_array(&coo->attr);
}

/* PyG's maybe_num_nodes: the largest index + 1 (0 without edges). */
static size_t infer_num_nodes(const pygk_coo *coo) {
    size_t count = 2 * coo->index.rows;
    int64_t top = -1;
    if (coo->index.index_type == GK_INDEX_I64) {
        const int64_t *v = coo->index.view.buf;
        for (size_t k = 0; k < count; k++) top = v[k] > top ? v[k] : top;
    } else {
        const int32_t *v = coo->index.view.buf;
        for (size_t k = 0; k < count; k++) top = v[k] > top ? v[k] : top;
    }
    return top < 0 ? 0 : (size_t)top + 1;
}

static int graph_init(PyGkGraph *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"model", "max_nodes", "max_edges", NULL};
    PyGkModel *model;
    Py_ssize_t max_nodes, max_edges;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!nn:Graph", kwlist, &PyGkModel_Type,
                                     &model, &max_nodes, &max_edges))
        return -1;
    if (self->graph || self->keeper) {
        PyErr_SetString(PyExc_RuntimeError, "Graph is already initialized");
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
    st = gk_graph_create(model->model, (size_t)max_nodes, (size_t)max_edges,
                         &self->graph, &err);
    Py_END_ALLOW_THREADS
    if (st != GK_OK) {
        pygk_raise(st, &err);
        return -1;
    }
    self->owner = (PyGkModel *)Py_NewRef(model);
    self->max_nodes = (size_t)max_nodes;
    self->max_edges = (size_t)max_edges;
    return 0;
}

PyGkGraph *pygk_borrowed_graph(PyGkModel *model, gk_graph *graph, PyObject *keeper,
                               size_t max_nodes, size_t max_edges) {
    PyGkGraph *g = PyObject_New(PyGkGraph, &PyGkGraph_Type);
    if (!g) return NULL;
    g->owner = (PyGkModel *)Py_NewRef(model);
    g->graph = graph;
    g->keeper = Py_NewRef(keeper);
    g->max_nodes = max_nodes;
    g->max_edges = max_edges;
    g->readers = g->writing = 0;
    return g;
}

int pygk_detach_graph(PyGkGraph *g) {
    if (g->readers || g->writing) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the snapshot's graph is in use by another thread");
        return -1;
    }
    g->graph = NULL;
    return 0;
}

static void graph_dealloc(PyGkGraph *self) {
    if (!self->keeper) gk_graph_free(self->graph);
    Py_XDECREF(self->keeper);
    Py_XDECREF(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *graph_set(PyGkGraph *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames) {
    static const char *const names[] = {"edge_index", "edge_attr", "num_nodes"};
    PyObject *a[3];
    if (pygk_parse("set", args, nargs, kwnames, names, 3, 3, a) < 0) return NULL;
    if (!self->graph) {
        PyErr_SetString(PyExc_RuntimeError, self->keeper ? "the graph was committed or "
                        "released" : "Graph.__init__ was not called");
        return NULL;
    }
    if (!a[0]) {
        PyErr_SetString(PyExc_TypeError, "set() missing required argument 'edge_index'");
        return NULL;
    }
    Py_ssize_t nodes = -1;
    if (a[2] && a[2] != Py_None) {
        nodes = PyLong_AsSsize_t(a[2]);
        if (nodes < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "num_nodes must be >= 1");
            return NULL;
        }
    }
    if (self->readers || self->writing) {
        PyErr_SetString(PyExc_RuntimeError, "Graph.set() while the graph is in use by "
                        "another thread (a plan infers on it, or another set())");
        return NULL;
    }
    pygk_coo coo;
    if (pygk_get_coo(self->owner->model, a[0], a[1], &coo) < 0) return NULL;
    gk_error err;
    gk_status st;
    self->writing = 1;
    Py_BEGIN_ALLOW_THREADS
    size_t n = nodes >= 0 ? (size_t)nodes : infer_num_nodes(&coo);
    st = gk_graph_set_coo(self->graph, n, coo.index.rows, coo.index.view.buf,
                          coo.index.index_type, coo.attr.held ? coo.attr.view.buf : NULL,
                          &err);
    Py_END_ALLOW_THREADS
    self->writing = 0;
    pygk_release_coo(&coo);
    if (st != GK_OK) return pygk_raise(st, &err);
    Py_RETURN_NONE;
}

/* set_complete(num_nodes, self_loops=False, edge_attr=None) */
static PyObject *graph_set_complete(PyGkGraph *self, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames) {
    static const char *const names[] = {"num_nodes", "self_loops", "edge_attr"};
    PyObject *a[3];
    if (pygk_parse("set_complete", args, nargs, kwnames, names, 3, 3, a) < 0) return NULL;
    if (!self->graph) {
        PyErr_SetString(PyExc_RuntimeError, self->keeper ? "the graph was committed or "
                        "released" : "Graph.__init__ was not called");
        return NULL;
    }
    if (!a[0]) {
        PyErr_SetString(PyExc_TypeError, "set_complete() missing required argument 'num_nodes'");
        return NULL;
    }
    Py_ssize_t nodes = PyLong_AsSsize_t(a[0]);
    if (nodes < 1) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "num_nodes must be >= 1");
        return NULL;
    }
    int loops = a[1] ? PyObject_IsTrue(a[1]) : 0;
    if (loops < 0) return NULL;
    size_t n = (size_t)nodes, dim = (size_t)gk_model_edge_dim(self->owner->model);
    PyObject *attr_obj = a[2] == Py_None ? NULL : a[2];
    if (dim == 0 && attr_obj) {
        PyErr_SetString(PyExc_ValueError,
                        "edge_attr given, but the model has no edge features (edge_dim 0)");
        return NULL;
    }
    pygk_array attr;
    memset(&attr, 0, sizeof attr);
    if (attr_obj && pygk_get_array(attr_obj, "edge_attr", PYGK_F32, dim, 0, &attr) < 0)
        return NULL;
    /* n <= max_nodes is checked by the library; below it n * n cannot overflow */
    size_t edges = n <= self->max_nodes ? (loops ? n * n : n * (n - 1)) : 0;
    if (attr_obj && n <= self->max_nodes && attr.rows != edges) {
        PyErr_Format(PyExc_ValueError, "edge_attr has %zu rows; the complete graph on %zu "
                     "nodes has %zu edges%s", attr.rows, n, edges,
                     loops ? " (self loops included)" : "");
        pygk_release_array(&attr);
        return NULL;
    }
    if (self->readers || self->writing) {
        pygk_release_array(&attr);
        PyErr_SetString(PyExc_RuntimeError, "Graph.set_complete() while the graph is in use "
                        "by another thread (a plan infers on it, or another set())");
        return NULL;
    }
    gk_error err;
    gk_status st;
    self->writing = 1;
    Py_BEGIN_ALLOW_THREADS
    st = gk_graph_set_complete(self->graph, n, loops, attr_obj ? attr.view.buf : NULL, &err);
    Py_END_ALLOW_THREADS
    self->writing = 0;
    pygk_release_array(&attr);
    if (st != GK_OK) return pygk_raise(st, &err);
    Py_RETURN_NONE;
}

#define SIZE_GETTER(name, expr)                                        \
    static PyObject *get_##name(PyGkGraph *self, void *closure) {      \
        (void)closure;                                                 \
        return PyLong_FromSize_t(self->graph ? (expr) : 0);            \
    }
SIZE_GETTER(num_nodes, gk_graph_num_nodes(self->graph))
SIZE_GETTER(num_edges, gk_graph_num_edges(self->graph))
SIZE_GETTER(max_nodes, self->max_nodes)
SIZE_GETTER(max_edges, self->max_edges)

static PyObject *get_model(PyGkGraph *self, void *closure) {
    (void)closure;
    return Py_NewRef(self->owner ? (PyObject *)self->owner : Py_None);
}

static PyObject *graph_layer_edges(PyGkGraph *self, PyObject *arg) {
    long layer = PyLong_AsLong(arg);
    if (layer == -1 && PyErr_Occurred()) return NULL;
    if (!self->graph || self->writing) {
        PyErr_SetString(PyExc_RuntimeError, "the graph is not set or being set");
        return NULL;
    }
    if (layer < 0 || layer >= gk_model_num_layers(self->owner->model)) {
        PyErr_Format(PyExc_IndexError, "layer %ld out of range", layer);
        return NULL;
    }
    size_t n = gk_graph_layer_edges(self->graph, (int)layer, NULL, NULL, 0);
    int64_t *data;
    PyObject *result = pygk_new_index(2, n, &data);
    if (result) gk_graph_layer_edges(self->graph, (int)layer, data, data + n, n);
    return result;
}

static PyMethodDef graph_methods[] = {
    {"layer_edges", (PyCFunction)graph_layer_edges, METH_O,
     PyDoc_STR("layer_edges(layer) -> int64 [2, E'] (source, target): the layer's "
               "edges after self-loop handling, in Plan.attention()'s order.")},
    {"set", (PyCFunction)(void (*)(void))graph_set, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("set(edge_index, edge_attr=None, num_nodes=None)\n\n"
               "Rebuild the graph from COO: edge_index int64/int32 [2, E] (row 0 "
               "source, row 1 target), edge_attr float32 [E, D]. num_nodes "
               "defaults to the largest index + 1, as in PyG. Allocates nothing.")},
    {"set_complete", (PyCFunction)(void (*)(void))graph_set_complete,
     METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("set_complete(num_nodes, self_loops=False, edge_attr=None)\n\n"
               "Make the graph complete on num_nodes nodes without an edge list: "
               "every pair (j, i), j != i, and (i, i) too with self_loops. Equal "
               "to set() with the edges listed target by target, sources "
               "ascending (graphkern.complete_edge_index gives that list); "
               "edge_attr float32 [E, D] in that order. Repeating the same "
               "num_nodes rewrites no index. Allocates nothing.")},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef graph_getset[] = {
    {"num_nodes", (getter)get_num_nodes, NULL, "nodes of the last set()", NULL},
    {"num_edges", (getter)get_num_edges, NULL, "input edges of the last set()", NULL},
    {"max_nodes", (getter)get_max_nodes, NULL, "node capacity", NULL},
    {"max_edges", (getter)get_max_edges, NULL, "edge capacity", NULL},
    {"model", (getter)get_model, NULL, "the model it was laid out for", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyGkGraph_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "graphkern._graphkern.Graph",
    .tp_doc = PyDoc_STR("Graph(model, max_nodes, max_edges): a reusable graph."),
    .tp_basicsize = sizeof(PyGkGraph),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)graph_init,
    .tp_dealloc = (destructor)graph_dealloc,
    .tp_methods = graph_methods,
    .tp_getset = graph_getset,
};
