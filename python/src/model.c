/* graphkern Model: a loaded gk_model, immutable, shareable by threads. */
#include "pygk.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const activation_names[] = {"none", "elu", "relu", "leaky_relu"};
static const char *const fill_names[] = {"mean", "add", "max", "min", "mul", "constant"};

static int model_init(PyGkModel *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"source", NULL};
    PyObject *source;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Model", kwlist, &source)) return -1;
    if (self->model) {
        PyErr_SetString(PyExc_RuntimeError, "Model is already initialized");
        return -1;
    }
    gk_error err;
    gk_status st;
    gk_model *m = NULL;
    if (PyUnicode_Check(source) || PyObject_HasAttrString(source, "__fspath__")) {
        PyObject *path = NULL;
        if (!PyUnicode_FSConverter(source, &path)) return -1;
        Py_BEGIN_ALLOW_THREADS
        st = gk_model_load_file(PyBytes_AS_STRING(path), &m, &err);
        Py_END_ALLOW_THREADS
        Py_DECREF(path);
    } else if (PyObject_CheckBuffer(source)) {
        Py_buffer v;
        if (PyObject_GetBuffer(source, &v, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError,
                            "Model source must be a path or a C-contiguous bytes-like object");
            return -1;
        }
        Py_BEGIN_ALLOW_THREADS
        st = gk_model_load_buffer(v.buf, (size_t)v.len, &m, &err);
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&v);
    } else {
        PyErr_Format(PyExc_TypeError,
                     "Model source must be a path (str, os.PathLike) or bytes-like, "
                     "got %.80s", Py_TYPE(source)->tp_name);
        return -1;
    }
    if (st != GK_OK) {
        pygk_raise(st, &err);
        return -1;
    }
    self->model = m;
    return 0;
}

static void model_dealloc(PyGkModel *self) {
    gk_model_free(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ready(const PyGkModel *self) {
    if (self->model) return 1;
    PyErr_SetString(PyExc_RuntimeError, "Model.__init__ was not called");
    return 0;
}

#define INT_GETTER(name, fn)                                            \
    static PyObject *get_##name(PyGkModel *self, void *closure) {       \
        (void)closure;                                                  \
        return ready(self) ? PyLong_FromLong(fn(self->model)) : NULL;   \
    }
INT_GETTER(num_layers, gk_model_num_layers)
INT_GETTER(in_features, gk_model_in_features)
INT_GETTER(out_features, gk_model_out_features)
INT_GETTER(edge_dim, gk_model_edge_dim)

/* A float32 as the shortest decimal that reads back as it: 0.2, not
 * 0.20000000298023224. */
static PyObject *float32_value(float v) {
    char buf[32];
    for (int digits = 6; digits < 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        if ((float)strtod(buf, NULL) == v) return PyFloat_FromDouble(strtod(buf, NULL));
    }
    return PyFloat_FromDouble((double)v);
}

static PyObject *layer_dict(const gk_layer_info *L) {
    PyObject *slope = float32_value(L->negative_slope);
    PyObject *fill = L->fill == GK_FILL_CONSTANT
                         ? float32_value(L->fill_constant)
                         : PyUnicode_FromString(fill_names[L->fill]);
    PyObject *edge_dim = L->edge_dim ? PyLong_FromLong(L->edge_dim) : Py_NewRef(Py_None);
    if (!fill || !edge_dim || !slope) {
        Py_XDECREF(slope);
        Py_XDECREF(fill);
        Py_XDECREF(edge_dim);
        return NULL;
    }
    PyObject *d = Py_BuildValue(
        "{s:s,s:s,s:i,s:i,s:i,s:O,s:N,s:O,s:N,s:N,s:O,s:O,s:s}",
        "name", L->name, "type", L->type == GK_LAYER_GATV2 ? "GATv2Conv" : "GATConv",
        "in_channels", L->in_channels, "out_channels", L->out_channels,
        "heads", L->heads, "concat", L->concat ? Py_True : Py_False,
        "negative_slope", slope,
        "add_self_loops", L->add_self_loops ? Py_True : Py_False, "fill_value", fill,
        "edge_dim", edge_dim,
        "bias", L->bias ? Py_True : Py_False,
        "residual", L->residual ? Py_True : Py_False,
        "activation", activation_names[L->activation]);
    if (d && L->type == GK_LAYER_GATV2 &&
        PyDict_SetItemString(d, "share_weights", L->share_weights ? Py_True : Py_False) < 0)
        Py_CLEAR(d);
    return d;
}

static PyObject *get_layers(PyGkModel *self, void *closure) {
    (void)closure;
    if (!ready(self)) return NULL;
    int n = gk_model_num_layers(self->model);
    PyObject *list = PyList_New(n);
    for (int i = 0; list && i < n; i++) {
        gk_layer_info info;
        gk_status st = gk_model_layer(self->model, i, &info);
        PyObject *d = st == GK_OK ? layer_dict(&info) : pygk_raise(st, NULL);
        if (!d) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, d);
    }
    return list;
}

static PyGetSetDef model_getset[] = {
    {"num_layers", (getter)get_num_layers, NULL, "number of GAT layers", NULL},
    {"in_features", (getter)get_in_features, NULL, "F, the width of x", NULL},
    {"out_features", (getter)get_out_features, NULL, "the width of y", NULL},
    {"edge_dim", (getter)get_edge_dim, NULL, "D of edge_attr (0: none)", NULL},
    {"layers", (getter)get_layers, NULL, "each layer's configuration, as the model file's metadata dicts", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject PyGkModel_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "graphkern._graphkern.Model",
    .tp_doc = PyDoc_STR("Model(path_or_bytes): a graphkern model file, loaded."),
    .tp_basicsize = sizeof(PyGkModel),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)model_init,
    .tp_dealloc = (destructor)model_dealloc,
    .tp_getset = model_getset,
};
