/* The _graphkern CPython extension: shared declarations.
 *
 * Three types wrap the C handles one to one: Model (gk_model), Graph
 * (gk_graph) and Plan (gk_plan plus a graph of its own for COO calls). The
 * pure-Python layer (python/graphkern/__init__.py) subclasses them. */
#ifndef PYGK_H
#define PYGK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <graphkern.h>

typedef struct {
    PyObject_HEAD
    gk_model *model;
} PyGkModel;

typedef struct {
    PyObject_HEAD
    PyGkModel *owner;      /* keeps the model alive */
    gk_graph *graph;       /* NULL once a borrowed graph is given back */
    PyObject *keeper;      /* a publisher's slot: the Publisher, else NULL */
    size_t max_nodes, max_edges;
    int readers;           /* plans inferring on it now (GIL released) */
    int writing;           /* set() running now (GIL released)         */
} PyGkGraph;

typedef struct {
    PyObject_HEAD
    PyGkModel *owner;
    gk_plan *plan;
    gk_graph *graph;       /* for infer(x, edge_index, ...) */
    size_t max_nodes, max_edges;
    int in_use;            /* infer() running now (GIL released) */
} PyGkPlan;

extern PyTypeObject PyGkModel_Type;
extern PyTypeObject PyGkGraph_Type;
extern PyTypeObject PyGkPlan_Type;
extern PyTypeObject PyGkCorr_Type;
extern PyTypeObject PyGkPublisher_Type;
extern PyTypeObject PyGkSnapshot_Type;

/* A Graph object for a graph the publisher owns (keeper: the publisher). */
PyGkGraph *pygk_borrowed_graph(PyGkModel *model, gk_graph *graph, PyObject *keeper,
                               size_t max_nodes, size_t max_edges);
/* Detach a borrowed graph (given back); RuntimeError if a plan reads it. */
int pygk_detach_graph(PyGkGraph *g);

/* ---- errors.c: graphkern.Error and its subclasses ---------------------- */
int pygk_errors_init(PyObject *module);
/* Raise the exception class for `status` carrying err->message; NULL. */
PyObject *pygk_raise(gk_status status, const gk_error *err);

/* ---- buffers.c: the buffer-protocol checks ------------------------------ */
enum pygk_kind { PYGK_F32, PYGK_INDEX };

/* A checked view of an argument as a [rows, cols] C-contiguous array. */
typedef struct {
    Py_buffer view;
    int held;              /* view must be released */
    size_t rows, cols;
    gk_index_type index_type;  /* PYGK_INDEX only */
} pygk_array;

/* Get `obj` (argument `name`) as a C-contiguous array of `kind`, 2-D with
 * `cols` columns or 1-D of a multiple of `cols` elements (cols > 0), or 2-D
 * with any column count (cols == 0). For the index kind, rows and cols are
 * swapped: [2, E] means rows = 2. Raises TypeError (not a buffer, wrong
 * dtype, not contiguous, read-only when writable) or ValueError (shape). */
int pygk_get_array(PyObject *obj, const char *name, enum pygk_kind kind,
                   size_t cols, int writable, pygk_array *out);
void pygk_release_array(pygk_array *a);

/* ---- output arrays: numpy when importable, else a 2-D memoryview ------- */
int pygk_output_init(void);
/* A new float32 [rows, cols] array; *data receives its memory. */
PyObject *pygk_new_output(size_t rows, size_t cols, float **data);
/* The same as int64. */
PyObject *pygk_new_index(size_t rows, size_t cols, int64_t **data);
/* _graphkern._numpy_outputs(flag): off makes outputs memoryviews (tests). */
PyObject *pygk_set_numpy_outputs(PyObject *self, PyObject *flag);

/* ---- args.c: vectorcall argument parsing, cheap enough for infer() ---- */
/* Fill out[0..n) from positional args (at most max_pos) and keywords named
 * names[0..n); missing ones stay NULL. Raises TypeError; returns -1. */
int pygk_parse(const char *func, PyObject *const *args, Py_ssize_t nargs,
               PyObject *kwnames, const char *const *names, int n, int max_pos,
               PyObject **out);

/* ---- graph.c: COO arguments shared by Graph.set and Plan.infer ---------- */
typedef struct {
    pygk_array index;      /* [2, E] */
    pygk_array attr;       /* [E, D] or unused (attr.held == 0) */
} pygk_coo;

/* Check edge_index / edge_attr against `model` (edge_attr required iff the
 * model has edge features, E rows). Raises TypeError/ValueError. */
int pygk_get_coo(const gk_model *model, PyObject *edge_index, PyObject *edge_attr,
                 pygk_coo *coo);
void pygk_release_coo(pygk_coo *coo);

/* ---- run.c: Plan.run(inputs) for format-2 models ----------------------- */
PyObject *pygk_plan_run(PyGkPlan *self, PyObject *inputs);

#endif /* PYGK_H */
