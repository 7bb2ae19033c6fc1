/* Fixture loading for tests, through the library's safetensors reader. */
#include "fixture_case.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

static void *copy_tensor(const gk_st_tensor *t) {
    if (!t) return NULL;
    void *p = malloc(t->nbytes ? t->nbytes : 1);
    if (p) memcpy(p, t->data, t->nbytes);
    return p;
}

int fixture_load(const char *dir, const char *name, fixture_case *fc) {
    char path[1024];
    gk_error err;
    memset(fc, 0, sizeof *fc);
    snprintf(path, sizeof path, "%s/%s.model.safetensors", dir, name);
    if (gk_model_load_file(path, &fc->model, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 1;
    }
    snprintf(path, sizeof path, "%s/%s.io.safetensors", dir, name);
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_st_file st;
    if (gk_read_file(path, &buf, &size, &err) != GK_OK ||
        gk_st_parse(buf, size, &st, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        free(buf);
        return 1;
    }
    const gk_st_tensor *x = gk_st_find(&st, "x"), *ei = gk_st_find(&st, "edge_index");
    const gk_st_tensor *ea = gk_st_find(&st, "edge_attr"), *y = gk_st_find(&st, "y_pyg_f64");
    int rc = !x || !ei || !y || ei->dtype != GK_DT_I64;
    if (!rc) {
        fc->num_nodes = (size_t)x->shape[0];
        fc->num_features = (size_t)x->shape[1];
        fc->num_edges = (size_t)ei->shape[1];
        fc->edge_dim = ea ? (size_t)ea->shape[1] : 0;
        fc->out_width = (size_t)y->shape[1];
        fc->x = copy_tensor(x);
        fc->edge_index = copy_tensor(ei);
        fc->edge_attr = copy_tensor(ea);
        fc->y_ref = copy_tensor(y);
    } else {
        fprintf(stderr, "%s: missing x, edge_index (I64) or y_pyg_f64\n", path);
    }
    gk_st_free(&st);
    free(buf);
    return rc;
}

void fixture_free(fixture_case *fc) {
    gk_model_free(fc->model);
    free(fc->x);
    free(fc->edge_index);
    free(fc->edge_attr);
    free(fc->y_ref);
    memset(fc, 0, sizeof *fc);
}

double fixture_error(const float *y, const double *ref, size_t count) {
    double diff = 0.0, scale = 1.0;
    for (size_t k = 0; k < count; k++) {
        double d = fabs((double)y[k] - ref[k]);
        if (d > diff || isnan(d)) diff = d;
        if (fabs(ref[k]) > scale) scale = fabs(ref[k]);
    }
    return diff / scale;
}
