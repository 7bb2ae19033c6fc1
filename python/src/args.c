/* Vectorcall argument parsing. PyArg_ParseTupleAndKeywords needs a tuple
 * and a dict; infer() is called in a loop, so it takes the vectorcall
 * arrays directly and matches keyword names against a short list. */
#include "pygk.h"

#include <string.h>

static int keyword_index(PyObject *key, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) return i;
    return -1;
}

int pygk_parse(const char *func, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames, const char *const *names, int n, int max_pos,
               PyObject **out) {
    memset(out, 0, (size_t)n * sizeof *out);
    if (nargs > max_pos) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d positional arguments "
                     "(%zd given)", func, max_pos, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int i = keyword_index(key, names, n);
        if (i < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'",
                         func, key);
            return -1;
        }
        if (out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
                         func, names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    return 0;
}
