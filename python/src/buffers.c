/* Arguments through the buffer protocol, checked and never copied.
 *
 * A view is requested with strides and format (PyBUF_RECORDS[_RO]) so that
 * any exporter answers, then checked here: this way a strided or wrongly
 * typed input gets a message naming the argument and what was expected,
 * instead of the exporter's generic BufferError. */
#include "pygk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The struct-module code of a native little-endian format, or 0. */
static char format_code(const char *fmt) {
    if (!fmt) return 'B';  /* PEP 3118: NULL format means unsigned bytes */
    if (*fmt == '@' || *fmt == '=' || *fmt == '<') fmt++;
    if (fmt[0] == '\0' || fmt[1] != '\0') return 0;
    return fmt[0];
}

static const char *dtype_name(char code, Py_ssize_t itemsize) {
    switch (code) {
    case 'f': return "float32";
    case 'd': return "float64";
    case 'e': return "float16";
    case 'b': return "int8";
    case 'B': return "uint8";
    case 'h': return "int16";
    case 'H': return "uint16";
    case '?': return "bool";
    case 'i': case 'l': case 'q':
        return itemsize == 4 ? "int32" : itemsize == 8 ? "int64" : "a signed integer";
    case 'I': case 'L': case 'Q':
        return itemsize == 4 ? "uint32" : itemsize == 8 ? "uint64" : "an unsigned integer";
    default: return NULL;
    }
}

static const char *expected(enum pygk_kind kind) {
    return kind == PYGK_F32 ? "C-contiguous float32" : "C-contiguous int64 or int32";
}

static void shape_text(const Py_buffer *v, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int d = 0; d < v->ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %zd" : "%zd",
                                 v->shape[d]);
    if (used < size) snprintf(buf + used, size - used, v->ndim == 1 ? ",)" : ")");
}

static void layout_text(enum pygk_kind kind, size_t cols, char *buf, size_t size) {
    if (kind == PYGK_INDEX) snprintf(buf, size, "[2, E]");
    else if (cols) snprintf(buf, size, "[rows, %zu]", cols);
    else snprintf(buf, size, "[rows, cols]");
}

static int fail(pygk_array *a, PyObject *type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    PyErr_FormatV(type, fmt, ap);
    va_end(ap);
    pygk_release_array(a);
    return -1;
}

static int get_view(PyObject *obj, const char *name, enum pygk_kind kind,
                    size_t cols, int writable, pygk_array *a) {
    char layout[48];
    layout_text(kind, cols, layout, sizeof layout);
    if (PyObject_GetBuffer(obj, &a->view, writable ? PyBUF_RECORDS : PyBUF_RECORDS_RO) == 0) {
        a->held = 1;
        return 0;
    }
    if (writable && PyObject_CheckBuffer(obj)) {
        Py_buffer probe;
        PyErr_Clear();
        if (PyObject_GetBuffer(obj, &probe, PyBUF_RECORDS_RO) == 0) {
            PyBuffer_Release(&probe);
            PyErr_Format(PyExc_TypeError, "%s must be writable (got a read-only %.80s)",
                         name, Py_TYPE(obj)->tp_name);
            return -1;
        }
    }
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError,
                 "%s must be a %s array %s supporting the buffer protocol (numpy "
                 "array, array.array, memoryview), got %.80s",
                 name, expected(kind), layout, Py_TYPE(obj)->tp_name);
    return -1;
}

static int check_format(pygk_array *a, const char *name, enum pygk_kind kind) {
    char code = format_code(a->view.format);
    Py_ssize_t size = a->view.itemsize;
    if (kind == PYGK_F32 && code == 'f' && size == 4) return 0;
    if (kind == PYGK_INDEX && (code == 'i' || code == 'l' || code == 'q') &&
        (size == 4 || size == 8)) {
        a->index_type = size == 4 ? GK_INDEX_I32 : GK_INDEX_I64;
        return 0;
    }
    const char *got = dtype_name(code, size);
    if (got)
        return fail(a, PyExc_TypeError, "%s must be %s, got %s", name,
                    kind == PYGK_F32 ? "float32" : "int64 or int32", got);
    return fail(a, PyExc_TypeError, "%s must be %s, got buffer format '%s'", name,
                kind == PYGK_F32 ? "float32" : "int64 or int32",
                a->view.format ? a->view.format : "B");
}

static int check_shape(pygk_array *a, const char *name, enum pygk_kind kind,
                       size_t cols) {
    char layout[48], got[96];
    layout_text(kind, cols, layout, sizeof layout);
    shape_text(&a->view, got, sizeof got);
    const Py_buffer *v = &a->view;
    size_t want = kind == PYGK_INDEX ? 2 : cols;  /* the dimension we know */
    if (v->ndim == 2) {
        size_t d0 = (size_t)v->shape[0], d1 = (size_t)v->shape[1];
        if (kind == PYGK_INDEX ? d0 == 2 : (cols == 0 || d1 == cols)) {
            a->rows = kind == PYGK_INDEX ? d1 : d0;
            a->cols = kind == PYGK_INDEX ? 2 : d1;
            return 0;
        }
    } else if (v->ndim == 1 && want > 0 && (size_t)v->shape[0] % want == 0) {
        a->rows = (size_t)v->shape[0] / want;  /* flat: array.array, bytes */
        a->cols = want;
        return 0;
    }
    return fail(a, PyExc_ValueError, "%s must have shape %s (or be flat with a "
                "multiple of %zu elements), got shape %s", name, layout, want, got);
}

int pygk_get_array(PyObject *obj, const char *name, enum pygk_kind kind,
                   size_t cols, int writable, pygk_array *a) {
    memset(a, 0, sizeof *a);
    if (get_view(obj, name, kind, cols, writable, a) < 0) return -1;
    if (check_format(a, name, kind) < 0) return -1;
    if (!PyBuffer_IsContiguous(&a->view, 'C')) {
        char layout[48];
        layout_text(kind, cols, layout, sizeof layout);
        return fail(a, PyExc_TypeError, "%s must be %s %s: got a non-contiguous view "
                    "(numpy.ascontiguousarray makes one)", name, expected(kind), layout);
    }
    return check_shape(a, name, kind, cols);
}

void pygk_release_array(pygk_array *a) {
    if (a->held) PyBuffer_Release(&a->view);
    a->held = 0;
}

/* ---- outputs ------------------------------------------------------------ */

static PyObject *np_empty;    /* numpy.empty, or NULL without numpy */
static PyObject *np_float32;  /* numpy.float32 */

int pygk_output_init(void) {
    PyObject *np = PyImport_ImportModule("numpy");
    if (!np) {  /* numpy is optional */
        PyErr_Clear();
        return 0;
    }
    np_empty = PyObject_GetAttrString(np, "empty");
    np_float32 = PyObject_GetAttrString(np, "float32");
    Py_DECREF(np);
    if (!np_empty || !np_float32) {
        Py_CLEAR(np_empty);
        Py_CLEAR(np_float32);
        PyErr_Clear();
    }
    return 0;
}

static PyObject *new_memoryview(size_t rows, size_t cols, const char *code,
                                void **data) {
    PyObject *bytes = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(rows * cols * 4 *
                                                    (code[0] == 'q' ? 2 : 1)));
    if (!bytes) return NULL;
    *data = PyByteArray_AS_STRING(bytes);
    PyObject *flat = PyMemoryView_FromObject(bytes);
    Py_DECREF(bytes);
    if (!flat) return NULL;
    PyObject *shaped = PyObject_CallMethod(flat, "cast", "s(nn)", code,
                                           (Py_ssize_t)rows, (Py_ssize_t)cols);
    Py_DECREF(flat);
    return shaped;
}

static PyObject *new_array(size_t rows, size_t cols, const char *code, void **data) {
    if (!np_empty) return new_memoryview(rows, cols, code, data);
    PyObject *arr = code[0] == 'f'
        ? PyObject_CallFunction(np_empty, "(nn)O", (Py_ssize_t)rows, (Py_ssize_t)cols,
                                np_float32)
        : PyObject_CallFunction(np_empty, "(nn)s", (Py_ssize_t)rows, (Py_ssize_t)cols,
                                "int64");
    if (!arr) return NULL;
    Py_buffer v;
    if (PyObject_GetBuffer(arr, &v, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    *data = v.buf;  /* the array owns it; the view only pins it for now */
    PyBuffer_Release(&v);
    return arr;
}

PyObject *pygk_new_output(size_t rows, size_t cols, float **data) {
    void *p = NULL;
    PyObject *r = new_array(rows, cols, "f", &p);
    *data = p;
    return r;
}

PyObject *pygk_new_index(size_t rows, size_t cols, int64_t **data) {
    void *p = NULL;
    PyObject *r = new_array(rows, cols, "q", &p);
    *data = p;
    return r;
}

/* Private: let the tests force the memoryview outputs (numpy installed). */
PyObject *pygk_set_numpy_outputs(PyObject *self, PyObject *flag) {
    (void)self;
    int on = PyObject_IsTrue(flag);
    if (on < 0) return NULL;
    if (!on) {
        Py_CLEAR(np_empty);
        Py_CLEAR(np_float32);
    } else if (!np_empty) {
        pygk_output_init();
    }
    return PyBool_FromLong(np_empty != NULL);
}
