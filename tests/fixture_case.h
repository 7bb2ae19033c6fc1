/* Loading one PyG fixture case (<name>.model / <name>.io safetensors). */
#ifndef GK_TEST_FIXTURE_CASE_H
#define GK_TEST_FIXTURE_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"

typedef struct fixture_case {
    gk_model *model;
    size_t num_nodes, num_features, num_edges, edge_dim, out_width;
    float *x;            /* [N, F]   */
    int64_t *edge_index; /* [2, E]   */
    float *edge_attr;    /* [E, D] or NULL */
    double *y_ref;       /* y_pyg_f64 [N, out] */
} fixture_case;

/* 0 on success; prints what failed otherwise. */
int fixture_load(const char *dir, const char *name, fixture_case *fc);
void fixture_free(fixture_case *fc);

/* The fixtures README metric: max|y - ref| / max(1, max|ref|). */
double fixture_error(const float *y, const double *ref, size_t count);

#endif
