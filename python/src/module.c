/* _graphkern: module definition. The public names live in graphkern
 * (python/graphkern/__init__.py), which subclasses these types. */
#include "pygk.h"

static PyMethodDef module_methods[] = {
    {"_numpy_outputs", (PyCFunction)pygk_set_numpy_outputs, METH_O,
     PyDoc_STR("_numpy_outputs(flag) -> bool: new outputs as numpy arrays (when "
               "importable) or as 2-D memoryviews; for tests.")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "graphkern._graphkern",
    .m_doc = "graphkern C extension: Model, Graph, Plan and the error classes.",
    .m_size = -1,
    .m_methods = module_methods,
};

static int add_type(PyObject *module, PyTypeObject *type, const char *name) {
    if (PyType_Ready(type) < 0) return -1;
    return PyModule_AddObjectRef(module, name, (PyObject *)type);
}

PyMODINIT_FUNC PyInit__graphkern(void) {
    PyObject *m = PyModule_Create(&module_def);
    if (!m) return NULL;
    if (add_type(m, &PyGkModel_Type, "Model") < 0 ||
        add_type(m, &PyGkGraph_Type, "Graph") < 0 ||
        add_type(m, &PyGkPlan_Type, "Plan") < 0 ||
        add_type(m, &PyGkCorr_Type, "Correlation") < 0 ||
        add_type(m, &PyGkPublisher_Type, "Publisher") < 0 ||
        add_type(m, &PyGkSnapshot_Type, "Snapshot") < 0 || pygk_errors_init(m) < 0 ||
        pygk_output_init() < 0 ||
        PyModule_AddObject(m, "version", PyUnicode_FromFormat("%d.%d.%d",
            GRAPHKERN_VERSION_MAJOR, GRAPHKERN_VERSION_MINOR, GRAPHKERN_VERSION_PATCH)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
