/* Inputs of a format-2 model read by name from a .io safetensors file: one
 * tensor per model input (float32 features, int64/int32 edge_index), and
 * y_ref_f64 when the file carries it. Sizes are taken from the file; the
 * library checks them against the model when it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "safetensors.h"

static int fail(gk_error *err, gk_status st, const char *what, const char *name) {
    err->status = st;
    snprintf(err->message, sizeof err->message, what, name);
    return 1;
}

static int take(const gk_st_tensor *t, const gk_io_info *info, gk_tensor *out,
                gk_error *err) {
    int index = info->integer;   /* edge_index, or indices into an embedding */
    if (index ? t->dtype != GK_DT_I64 && t->dtype != GK_DT_I32 : t->dtype != GK_DT_F32)
        return fail(err, GK_EDTYPE, index ? "'%s' must be I64 or I32"
                                          : "'%s' must be F32", info->name);
    if (t->ndim < 1 || t->ndim > GK_MAX_RANK)
        return fail(err, GK_ESHAPE, "'%s' must have rank 1 to 4", info->name);
    out->name = info->name;
    out->dtype = t->dtype == GK_DT_F32 ? GK_TENSOR_F32
                 : t->dtype == GK_DT_I64 ? GK_TENSOR_I64 : GK_TENSOR_I32;
    out->ndim = t->ndim;
    for (int d = 0; d < t->ndim; d++) out->shape[d] = t->shape[d];
    out->data = aligned_alloc(64, (t->nbytes + 63) / 64 * 64 + 64);
    if (!out->data) return fail(err, GK_ENOMEM, "out of memory for '%s'", info->name);
    memcpy(out->data, t->data, t->nbytes);
    return 0;
}

int cli_read_named(const char *path, const gk_model *model, cli_named *in, gk_error *err) {
    memset(in, 0, sizeof *in);
    uint8_t *file = NULL;
    size_t size = 0;
    if (gk_read_file(path, &file, &size, err) != GK_OK) return 1;
    gk_st_file st;
    if (gk_st_parse(file, size, &st, err) != GK_OK) {
        free(file);
        return 1;
    }
    int rc = 0;
    in->count = gk_model_num_inputs(model);
    for (int i = 0; i < in->count && !rc; i++) {
        gk_io_info info;
        gk_model_input(model, i, &info);
        const gk_st_tensor *t = gk_st_find(&st, info.name);
        rc = t ? take(t, &info, &in->inputs[i], err)
               : fail(err, GK_EMISSING, "no tensor '%s' (an input of the model)", info.name);
        if (!rc && info.kind == GK_IO_NODES && !in->nodes)
            in->nodes = (size_t)t->shape[0];
        if (!rc && info.kind == GK_IO_EDGE_INDEX && t->ndim == 2 &&
            (size_t)t->shape[1] > in->max_edges)
            in->max_edges = (size_t)t->shape[1];
    }
    const gk_st_tensor *y = gk_st_find(&st, "y_ref_f64");
    if (!rc && y && y->dtype == GK_DT_F64) {
        in->y_ref = malloc(y->nbytes ? y->nbytes : 1);
        if (in->y_ref) memcpy(in->y_ref, y->data, y->nbytes);
        in->y_ref_count = y->numel;
    }
    gk_st_free(&st);
    free(file);
    if (!in->nodes) in->nodes = 1;
    if (rc) cli_free_named(in);
    return rc;
}

void cli_free_named(cli_named *in) {
    for (int i = 0; i < in->count && i < 64; i++) free(in->inputs[i].data);
    free(in->y_ref);
    memset(in, 0, sizeof *in);
}

int cli_named_outputs(const gk_model *model, size_t nodes, gk_tensor *out) {
    int n = gk_model_num_outputs(model);
    for (int o = 0; o < n; o++) {
        gk_io_info info;
        gk_model_output(model, o, &info);
        size_t numel = 1;
        for (int d = 0; d < info.ndim; d++)
            numel *= info.shape[d] == GK_DIM_NODES ? nodes : (size_t)info.shape[d];
        out[o] = (gk_tensor){.name = info.name, .data = calloc(numel ? numel : 1, 4),
                             .capacity = numel};
        if (!out[o].data) return -1;
    }
    return n;
}
