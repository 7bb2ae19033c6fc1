/* Loading one whole-model fixture (tests/fixtures/models/<case>.model and
 * <case>.io safetensors, made by tests/make_model_fixtures.py): the model,
 * its inputs as gk_tensors named as the model wants, and y_ref_f64. */
#ifndef GK_TEST_MODEL_CASE_H
#define GK_TEST_MODEL_CASE_H

#include <stddef.h>

#include "graphkern.h"

typedef struct model_case {
    gk_model *model;
    int num_inputs;
    gk_tensor inputs[8];
    void *input_data[8];         /* owned copies, in the model's dtypes     */
    size_t nodes, max_edges;
    double *y_ref;               /* y_ref_f64, flattened                    */
    size_t y_count;
    int y_ndim;
    long long y_shape[4];
} model_case;

/* 0 on success; prints what failed otherwise. */
int model_case_load(const char *dir, const char *name, model_case *mc);
void model_case_free(model_case *mc);

/* The fixtures' metric: max|y - ref| / max(1e-3, max|ref|). */
double model_case_error(const float *y, const double *ref, size_t count);

/* The whole-model fixture names, NULL-terminated. */
extern const char *const model_case_names[];

#endif
