/* Loading a whole-model fixture: see model_case.h. */
#include "model_case.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

/* The six PyG fixture models and models of tests/python/extra_models.py
 * (tests/make_model_fixtures.py writes both), in sorted order: byte 0 of a
 * fuzz_program input indexes this list as make_seeds.py does. */
const char *const model_case_names[] = {
    "bn_residual_data", "cross_section_norm", "encoder_gat_skip_ln_mlp",
    "graph_pool_sigmoid", "gru_gatv2_weights", "lstm_gatv2_portfolio", "masked_portfolio",
    "pyg_gat_class", "relations_attention", "sector_embedding", "three_relations", NULL};

static void *copy_bytes(const gk_st_tensor *t) {
    void *p = malloc(t->nbytes ? t->nbytes : 1);
    if (p) memcpy(p, t->data, t->nbytes);
    return p;
}

static int take_input(model_case *mc, const gk_st_file *st, int i, const char *path) {
    gk_io_info info;
    gk_model_input(mc->model, i, &info);
    const gk_st_tensor *t = gk_st_find(st, info.name);
    if (!t || t->ndim > GK_MAX_RANK ||
        (t->dtype != GK_DT_F32 && t->dtype != GK_DT_I64 && t->dtype != GK_DT_I32)) {
        fprintf(stderr, "%s: no usable tensor '%s'\n", path, info.name);
        return 1;
    }
    gk_tensor *g = &mc->inputs[i];
    g->name = info.name;
    g->dtype = t->dtype == GK_DT_F32 ? GK_TENSOR_F32
               : t->dtype == GK_DT_I64 ? GK_TENSOR_I64 : GK_TENSOR_I32;
    g->ndim = t->ndim;
    for (int d = 0; d < t->ndim; d++) g->shape[d] = t->shape[d];
    mc->input_data[i] = g->data = copy_bytes(t);
    if (info.kind == GK_IO_NODES && !mc->nodes) mc->nodes = (size_t)t->shape[0];
    if (info.kind == GK_IO_EDGE_INDEX && (size_t)t->shape[1] > mc->max_edges)
        mc->max_edges = (size_t)t->shape[1];
    return g->data == NULL;
}

int model_case_load(const char *dir, const char *name, model_case *mc) {
    char path[512];
    gk_error err;
    memset(mc, 0, sizeof *mc);
    snprintf(path, sizeof path, "%s/models/%s.model.safetensors", dir, name);
    if (gk_model_load_file(path, &mc->model, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 1;
    }
    snprintf(path, sizeof path, "%s/models/%s.io.safetensors", dir, name);
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_st_file st;
    if (gk_read_file(path, &buf, &size, &err) != GK_OK ||
        gk_st_parse(buf, size, &st, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        free(buf);
        return 1;
    }
    mc->num_inputs = gk_model_num_inputs(mc->model);
    int rc = mc->num_inputs < 1 || mc->num_inputs > 8;
    for (int i = 0; !rc && i < mc->num_inputs; i++) rc = take_input(mc, &st, i, path);
    const gk_st_tensor *y = gk_st_find(&st, "y_ref_f64");
    if (!rc && (!y || y->dtype != GK_DT_F64 || y->ndim > 4)) {
        fprintf(stderr, "%s: no y_ref_f64\n", path);
        rc = 1;
    }
    if (!rc) {
        mc->y_ref = copy_bytes(y);
        mc->y_count = y->numel;
        mc->y_ndim = y->ndim;
        for (int d = 0; d < y->ndim; d++) mc->y_shape[d] = y->shape[d];
    }
    gk_st_free(&st);
    free(buf);
    return rc;
}

void model_case_free(model_case *mc) {
    gk_model_free(mc->model);
    for (int i = 0; i < 8; i++) free(mc->input_data[i]);
    free(mc->y_ref);
    memset(mc, 0, sizeof *mc);
}

double model_case_error(const float *y, const double *ref, size_t count) {
    double diff = 0.0, scale = 1e-3;
    for (size_t k = 0; k < count; k++) {
        double d = fabs((double)y[k] - ref[k]);
        if (d > diff || isnan(d)) diff = d;
        if (fabs(ref[k]) > scale) scale = fabs(ref[k]);
    }
    return diff / scale;
}
