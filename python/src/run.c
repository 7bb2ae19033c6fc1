/* Plan.run(inputs) for format-2 models: a dict of named buffers in, a dict
 * name -> (flat float32 array, shape) out (the Python layer reshapes). Any
 * C-contiguous buffer of float32, int64 or int32 of rank 1 to 4 is taken in
 * place; the GIL is released while gk_infer_named runs. */
#include "pygk.h"

#include <string.h>

#define MAX_IO 64

/* dtype of a buffer's struct format, or -1. */
static int dtype_of(const Py_buffer *v) {
    const char *f = v->format ? v->format : "B";
    while (*f == '@' || *f == '=' || *f == '<') f++;
    if (strcmp(f, "f") == 0 && v->itemsize == 4) return GK_TENSOR_F32;
    if ((strcmp(f, "q") == 0 || strcmp(f, "l") == 0) && v->itemsize == 8) return GK_TENSOR_I64;
    if ((strcmp(f, "i") == 0 || strcmp(f, "l") == 0) && v->itemsize == 4) return GK_TENSOR_I32;
    return -1;
}

static int take_input(PyObject *name, PyObject *obj, Py_buffer *view, gk_tensor *t) {
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "run(): input names must be str");
        return -1;
    }
    t->name = PyUnicode_AsUTF8(name);
    if (!t->name) return -1;
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "run(): input '%s' is not a C-contiguous buffer "
                     "(got %.80s)", t->name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int dt = dtype_of(view);
    if (dt < 0 || view->ndim < 1 || view->ndim > GK_MAX_RANK) {
        PyErr_Format(PyExc_TypeError, "run(): input '%s' must be float32, int64 or int32 of "
                     "rank 1 to %d (format '%s', rank %d)", t->name, GK_MAX_RANK,
                     view->format ? view->format : "B", view->ndim);
        PyBuffer_Release(view);
        return -1;
    }
    t->dtype = (gk_tensor_dtype)dt;
    t->ndim = view->ndim;
    for (int d = 0; d < view->ndim; d++) t->shape[d] = view->shape[d];
    t->data = view->buf;
    return 0;
}

/* N: the first node input's row count among those given. */
static size_t node_count(const gk_model *m, const gk_tensor *in, int count) {
    for (int i = 0; i < gk_model_num_inputs(m); i++) {
        gk_io_info info;
        gk_model_input(m, i, &info);
        if (info.kind != GK_IO_NODES) continue;
        for (int k = 0; k < count; k++)
            if (strcmp(in[k].name, info.name) == 0) return (size_t)in[k].shape[0];
    }
    return 1;
}

PyObject *pygk_plan_run(PyGkPlan *self, PyObject *inputs) {
    if (!self->plan) {
        PyErr_SetString(PyExc_RuntimeError, "Plan.__init__ was not called");
        return NULL;
    }
    if (!PyDict_Check(inputs)) {
        PyErr_SetString(PyExc_TypeError, "run() takes a dict {name: buffer}");
        return NULL;
    }
    if (self->in_use) {
        PyErr_SetString(PyExc_RuntimeError, "the plan is in use by another thread: a plan "
                        "runs one inference at a time (use a plan per thread)");
        return NULL;
    }
    const gk_model *m = self->owner->model;
    int nout = gk_model_num_outputs(m);
    Py_ssize_t nin = PyDict_Size(inputs);
    if (nin > MAX_IO || nout > MAX_IO) {
        PyErr_SetString(PyExc_ValueError, "run(): more than 64 inputs");
        return NULL;
    }
    gk_tensor in[MAX_IO], out[MAX_IO];
    Py_buffer views[MAX_IO];
    PyObject *arrays[MAX_IO] = {0};
    int held = 0;
    PyObject *key, *value, *result = NULL;
    Py_ssize_t pos = 0;
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    while (PyDict_Next(inputs, &pos, &key, &value)) {
        if (take_input(key, value, &views[held], &in[held]) < 0) goto done;
        held++;
    }
    size_t n = node_count(m, in, held);
    for (int o = 0; o < nout; o++) {
        gk_io_info info;
        gk_model_output(m, o, &info);
        size_t numel = 1;
        for (int d = 0; d < info.ndim; d++)
            numel *= info.shape[d] == GK_DIM_NODES ? (n ? n : 1) : (size_t)info.shape[d];
        float *data = NULL;
        arrays[o] = pygk_new_output(1, numel, &data);
        if (!arrays[o]) goto done;
        out[o].name = info.name;
        out[o].data = data;
        out[o].capacity = numel;
    }
    gk_error err;
    gk_status st;
    self->in_use = 1;
    Py_BEGIN_ALLOW_THREADS
    st = gk_infer_named(self->plan, in, (size_t)held, out, (size_t)nout, &err);
    Py_END_ALLOW_THREADS
    self->in_use = 0;
    if (st != GK_OK) {
        pygk_raise(st, &err);
        goto done;
    }
    result = PyDict_New();
    for (int o = 0; result && o < nout; o++) {
        PyObject *shape = PyTuple_New(out[o].ndim);
        for (int d = 0; shape && d < out[o].ndim; d++)
            PyTuple_SET_ITEM(shape, d, PyLong_FromLongLong(out[o].shape[d]));
        PyObject *pair = shape ? PyTuple_Pack(2, arrays[o], shape) : NULL;
        Py_XDECREF(shape);
        if (!pair || PyDict_SetItemString(result, out[o].name, pair) < 0) Py_CLEAR(result);
        Py_XDECREF(pair);
    }
done:
    for (int k = 0; k < held; k++) PyBuffer_Release(&views[k]);
    for (int o = 0; o < nout; o++) Py_XDECREF(arrays[o]);
    return result;
}
