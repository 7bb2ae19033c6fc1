/* graphkern.Error and its subclasses: a gk_status becomes a Python
 * exception carrying the C message, the status name and its number.
 *
 *   Error                       every failure reported by the C library
 *   ├─ InvalidInputError        ValueError: bad argument, shape, index,
 *   │                           capacity, NaN/Inf, graph of another model
 *   ├─ ModelFormatError         ValueError: the model file is malformed
 *   ├─ OutOfMemoryError         MemoryError
 *   ├─ FileError                OSError: a file could not be read
 *   └─ PlatformError            RuntimeError: ISA or threads unavailable */
#include "pygk.h"

#include <string.h>

static PyObject *error_base, *error_input, *error_format, *error_memory,
    *error_file, *error_platform;

static PyObject *class_of(gk_status st) {
    switch (st) {
    case GK_EINVAL: case GK_ESHAPE: case GK_EINDEX: case GK_ELIMIT:
    case GK_EOVERFLOW: case GK_ENONFINITE: case GK_EMISMATCH:
        return error_input;
    case GK_EFORMAT: case GK_EJSON: case GK_EMETADATA: case GK_EUNSUPPORTED:
    case GK_EMISSING: case GK_EDTYPE: case GK_EOFFSET: case GK_ECHANNELS:
        return error_format;
    case GK_ENOMEM: return error_memory;
    case GK_EIO: return error_file;
    case GK_EISA: case GK_ETHREAD: return error_platform;
    default: return error_base;
    }
}

static PyObject *new_class(PyObject *module, const char *name, PyObject *extra,
                           const char *doc) {
    char qualified[64];
    snprintf(qualified, sizeof qualified, "graphkern.%s", name);
    PyObject *bases = extra ? PyTuple_Pack(2, error_base, extra)
                            : PyTuple_Pack(1, PyExc_Exception);
    if (!bases) return NULL;
    PyObject *cls = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
    Py_DECREF(bases);
    if (cls && PyModule_AddObjectRef(module, name, cls) < 0) Py_CLEAR(cls);
    return cls;
}

int pygk_errors_init(PyObject *module) {
    error_base = new_class(module, "Error", NULL,
        "A failure reported by the graphkern C library. Attributes: status "
        "(e.g. 'GK_ESHAPE'), code (its number), message (the C message).");
    if (!error_base) return -1;
    error_input = new_class(module, "InvalidInputError", PyExc_ValueError,
        "Bad argument, shape, edge index, capacity, NaN/Inf, or a graph built "
        "for another model.");
    error_format = new_class(module, "ModelFormatError", PyExc_ValueError,
        "The model file is not a valid graphkern model.");
    error_memory = new_class(module, "OutOfMemoryError", PyExc_MemoryError,
        "The C library could not allocate memory.");
    error_file = new_class(module, "FileError", PyExc_OSError,
        "A file could not be opened or read.");
    error_platform = new_class(module, "PlatformError", PyExc_RuntimeError,
        "A forced instruction set or the worker threads are not available.");
    if (!error_input || !error_format || !error_memory || !error_file ||
        !error_platform)
        return -1;
    return 0;
}

/* "GK_ESHAPE: wrong shape" -> "GK_ESHAPE" */
static PyObject *status_name(gk_status st) {
    const char *text = gk_strerror(st);
    const char *colon = strchr(text, ':');
    return PyUnicode_FromStringAndSize(text, colon ? colon - text : (Py_ssize_t)strlen(text));
}

PyObject *pygk_raise(gk_status st, const gk_error *err) {
    const char *message = err && err->message[0] ? err->message : gk_strerror(st);
    PyObject *cls = class_of(st);
    PyObject *msg = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace");
    PyObject *name = status_name(st);
    PyObject *code = PyLong_FromLong((long)st);
    PyObject *exc = msg ? PyObject_CallOneArg(cls, msg) : NULL;
    if (exc && name && code &&
        PyObject_SetAttrString(exc, "status", name) == 0 &&
        PyObject_SetAttrString(exc, "code", code) == 0 &&
        PyObject_SetAttrString(exc, "message", msg) == 0)
        PyErr_SetObject(cls, exc);
    Py_XDECREF(exc);
    Py_XDECREF(msg);
    Py_XDECREF(name);
    Py_XDECREF(code);
    return NULL;
}
