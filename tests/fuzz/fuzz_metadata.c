/* Fuzz the model metadata: __metadata__["graphkern"] (docs/model-format.md).
 *
 * The bytes are the JSON string. gk_model_parse_config must accept or give
 * a metadata status; when it accepts and the weights would be small, the
 * target writes a model file with every tensor the config names (PyG's
 * state_dict spelling, deterministic values), loads it with the public
 * loader, which must accept it (or refuse a too large transform with
 * GK_EOVERFLOW), and runs it against the float64 reference. */
#include <math.h>

#include "fuzz_common.h"
#include "model_load.h"
#include "ref_gat.h"
#include "safetensors.h"
#include "test_util.h"

#define MAX_FLOATS (1u << 18)  /* all weights of one model */
#define MAX_TENSORS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct builder {
    gk_st_out out[GK_ST_MAX_DIMS * MAX_TENSORS];
    char names[GK_ST_MAX_DIMS * MAX_TENSORS][96];
    float *values[GK_ST_MAX_DIMS * MAX_TENSORS];
    size_t count, floats;
    int ok;
} builder;

static void add(builder *b, const char *layer, const char *suffix, int ndim,
                int64_t d0, int64_t d1, int64_t d2) {
    if (!b->ok) return;
    size_t numel = (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1) * (size_t)(ndim > 2 ? d2 : 1);
    if (b->count == sizeof b->out / sizeof b->out[0] || numel > MAX_FLOATS ||
        b->floats + numel > MAX_FLOATS) {
        b->ok = 0;
        return;
    }
    size_t k = b->count++;
    b->floats += numel;
    snprintf(b->names[k], sizeof b->names[k], "%s.%s", layer, suffix);
    float *v = malloc((numel ? numel : 1) * sizeof *v);
    FUZZ_CHECK(v != NULL);
    for (size_t i = 0; i < numel; i++)  /* small, varied, reproducible */
        v[i] = 0.3f * (float)sin(0.7 * (double)(i + 31 * k) + 0.1);
    b->values[k] = v;
    b->out[k] = (gk_st_out){b->names[k], GK_DT_F32, ndim, {d0, d1, d2}, v};
}

static void add_layer(builder *b, const gk_layer_info *in) {
    int64_t hc = (int64_t)in->heads * in->out_channels, f = in->in_channels;
    if (in->type == GK_LAYER_GAT) {
        add(b, in->name, "lin.weight", 2, hc, f, 0);
        add(b, in->name, "att_src", 3, 1, in->heads, in->out_channels);
        add(b, in->name, "att_dst", 3, 1, in->heads, in->out_channels);
        if (in->edge_dim) add(b, in->name, "att_edge", 3, 1, in->heads, in->out_channels);
    } else {  /* share_weights: PyG's state_dict still lists lin_r */
        add(b, in->name, "lin_l.weight", 2, hc, f, 0);
        add(b, in->name, "lin_r.weight", 2, hc, f, 0);
        if (in->bias) {
            add(b, in->name, "lin_l.bias", 1, hc, 0, 0);
            add(b, in->name, "lin_r.bias", 1, hc, 0, 0);
        }
        add(b, in->name, "att", 3, 1, in->heads, in->out_channels);
    }
    if (in->edge_dim) add(b, in->name, "lin_edge.weight", 2, hc, in->edge_dim, 0);
    if (in->residual) add(b, in->name, "res.weight", 2, in->out_width, f, 0);
    if (in->bias) add(b, in->name, "bias", 1, in->out_width, 0, 0);
}

/* The model from its file through the library and through the tests'
 * independent reader, on the same 5-node graph: y must agree, within 1e-5
 * times the largest |negative_slope| when that is above 1. A float32 logit
 * is off by about its size times 2^-24, and leaky_relu's slope multiplies
 * the negative ones (the metadata may ask for 522): the attention weights'
 * error grows with it in any float32 implementation, PyG's included. */
static void compare_with_reference(const gk_model *m, const uint8_t *file, size_t size,
                                   double max_slope) {
    gk_st_file st;
    gk_error err;
    FUZZ_CHECK(gk_st_parse(file, size, &st, &err) == GK_OK);
    tu_model ref;
    int have_ref = tu_model_from_st(&st, &ref) == 0;
    gk_st_free(&st);
    if (!have_ref) return;  /* the tests' reader is stricter; not the library */
    enum { N = 5, E = 6 };
    const int64_t ei[2 * E] = {0, 1, 2, 3, 1, 2, 1, 2, 0, 3, 2, 0};
    size_t f = (size_t)gk_model_in_features(m), w = (size_t)gk_model_out_features(m);
    size_t d = (size_t)gk_model_edge_dim(m);
    float *x = malloc(N * f * sizeof *x), *ea = malloc((E * d + 1) * sizeof *ea);
    double *xd = malloc(N * f * sizeof *xd), *ead = malloc((E * d + 1) * sizeof *ead);
    float *y = malloc(N * w * sizeof *y);
    double *yd = malloc(N * w * sizeof *yd);
    FUZZ_CHECK(x && ea && xd && ead && y && yd);
    for (size_t k = 0; k < N * f; k++) xd[k] = x[k] = (float)cos(0.37 * (double)k);
    for (size_t k = 0; k < E * d; k++) ead[k] = ea[k] = (float)sin(1.3 * (double)k);
    gk_graph *g = NULL;
    gk_plan *p = NULL;
    if (gk_graph_from_coo(m, N, E, ei, GK_INDEX_I64, d ? ea : NULL, &g, &err) == GK_OK &&
        gk_plan_create(m, N, E, NULL, &p, &err) == GK_OK) {
        FUZZ_CHECK(gk_infer(p, g, x, y, &err) == GK_OK);
        FUZZ_CHECK(ref_forward(ref.layers, ref.num_layers, N, E, ei, ei + E,
                               d ? ead : NULL, (int)d, xd, yd, NULL) == 0);
        double rel = ref_rel_error_f32(y, yd, N * w);
        if (!(rel <= 1e-5 * fmax(1.0, max_slope))) {
            fprintf(stderr, "y differs from the reference by %.3e\n", rel);
            abort();
        }
    }
    gk_plan_free(p);
    gk_graph_free(g);
    tu_model_free(&ref);
    free(x), free(ea), free(xd), free(ead), free(y), free(yd);
}

static void load_generated(const char *json, const gk_layer *layers, int count) {
    builder *b = calloc(1, sizeof *b);
    FUZZ_CHECK(b != NULL);
    b->ok = 1;
    for (int l = 0; l < count; l++) add_layer(b, &layers[l].info);
    uint8_t *file = NULL;
    size_t size = 0;
    gk_error err;
    if (b->ok) {
        /* layers "a" and "a.lin_l" can both name "a.lin_l.bias": the writer
         * refuses a repeated name, and no file can hold such a model */
        gk_status st = gk_st_serialize(b->out, b->count, json, &file, &size, &err);
        FUZZ_CHECK(st == GK_OK || st == GK_EINVAL);
        gk_model *m = NULL;
        if (st == GK_OK) st = gk_model_load_buffer(file, size, &m, &err);
        if (!file) {
        } else if (st != GK_OK) {
            fuzz_check_failure(st, &err);
            if (st != GK_EOVERFLOW) fprintf(stderr, "load: %s\n", err.message);
            FUZZ_CHECK(st == GK_EOVERFLOW);
        } else {
            fuzz_exercise_model(m);
            double max_slope = 0.0;
            for (int l = 0; l < count; l++) {  /* not fmax: aarch64 gcc 12 ICEs on it */
                double slope = fabs((double)layers[l].info.negative_slope);
                max_slope = slope > max_slope ? slope : max_slope;
            }
            compare_with_reference(m, file, size, max_slope);
            gk_model_free(m);
        }
        gk_free(file);
    }
    for (size_t k = 0; k < b->count; k++) free(b->values[k]);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *json = malloc(size + 1);
    FUZZ_CHECK(json != NULL);
    memcpy(json, data, size);
    json[size] = '\0';
    gk_layer *layers = NULL;
    int count = 0;
    gk_error err;
    gk_status st = gk_model_parse_config(json, &layers, &count, &err);
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        FUZZ_CHECK(layers == NULL && count == 0);
        FUZZ_CHECK(st == GK_EJSON || st == GK_EFORMAT || st == GK_EMETADATA ||
                   st == GK_EUNSUPPORTED ||
                   st == GK_EOVERFLOW || st == GK_ECHANNELS || st == GK_ENOMEM);
    } else {
        FUZZ_CHECK(layers != NULL && count >= 1);
        /* a string with an embedded NUL is a different string in the file */
        if (strlen(json) == size) load_generated(json, layers, count);
        gk_free(layers);
    }
    free(json);
    return 0;
}
