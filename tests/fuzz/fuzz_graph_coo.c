/* Fuzz graph construction from COO and inference on every accepted graph.
 *
 * Input layout (all little-endian, missing bytes read as zero):
 *   [0] model (fixture index)   [1] flags (below)   [2] N-1 (N <= 64)
 *   [3..4] E (<= 256)   then 2·E indices (int32 or int64), then E·D
 *   edge_attr floats, then x bytes.
 * flags: bit0 int64 indices; bit1 indices taken mod N (valid) else raw;
 *        bit2 "tame" values (attr and x in [-1, 1], finite); bit3 a fresh
 *        graph sized exactly (gk_graph_from_coo) instead of the reused one;
 *        bit4 validate_inputs off.
 * Properties: a rejected graph gives EINDEX / ENONFINITE with the graph left
 * unusable (gk_infer says EINVAL); an accepted one runs gk_infer memory-safe
 * and, with tame values, matches the float64 reference (tests/ref_gat.c)
 * within the 1e-5 contract. */
#include <math.h>

#include "fuzz_common.h"
#include "ref_gat.h"
#include "test_util.h"

#define MAX_N 64
#define MAX_E 256

static const char *const fixture_names[] = {
    "quirky_n12", "fill_add_n24_edge3", "gatv2_quirky_n16_edge1",
    "noselfloops_n10", "quirky_edge2_n20_h3mean", "residual_n30"};
#define NUM_MODELS (int)(sizeof fixture_names / sizeof fixture_names[0])

typedef struct fuzz_model {
    gk_model *model;
    tu_model ref;
    gk_graph *graph;   /* reused across inputs: rebuilt in place */
    gk_plan *plan[2];  /* validate_inputs on / off */
} fuzz_model;

static fuzz_model models[NUM_MODELS];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    for (int k = 0; k < NUM_MODELS; k++) {
        fuzz_model *fm = &models[k];
        fm->model = fuzz_load_fixture(fixture_names[k]);
        char path[512];
        snprintf(path, sizeof path, "%s/%s.model.safetensors", GK_FIXTURES_DIR,
                 fixture_names[k]);
        tu_file f;
        FUZZ_CHECK(tu_open(path, &f) == 0);
        FUZZ_CHECK(tu_model_from_st(&f.st, &fm->ref) == 0);
        tu_close(&f);
        gk_error err;
        FUZZ_CHECK(gk_graph_create(fm->model, MAX_N, MAX_E, &fm->graph, &err) == GK_OK);
        for (int v = 0; v < 2; v++) {
            gk_plan_options opt = gk_plan_default_options();
            opt.keep_attention = 1;
            opt.validate_inputs = !v;
            FUZZ_CHECK(gk_plan_create(fm->model, MAX_N, MAX_E, &opt, &fm->plan[v],
                                      &err) == GK_OK);
        }
    }
    return 0;
}

/* Sequential reader over the input; past the end it yields zeros. */
typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static void take(reader *r, void *dst, size_t n) {
    size_t k = n < r->left ? n : r->left;
    memcpy(dst, r->p, k);
    memset((uint8_t *)dst + k, 0, n - k);
    r->p += k;
    r->left -= k;
}

static uint8_t take_u8(reader *r) {
    uint8_t v;
    take(r, &v, 1);
    return v;
}

static float tame(float v) {  /* any bits -> a finite value in [-1, 1] */
    if (!isfinite(v)) return 0.5f;
    return (float)sin((double)v);
}

static void compare_with_reference(const fuzz_model *fm, size_t n, size_t e,
                                   const int64_t *ei, const float *ea,
                                   const float *x, const float *y) {
    size_t f = (size_t)gk_model_in_features(fm->model);
    size_t w = (size_t)gk_model_out_features(fm->model);
    int d = gk_model_edge_dim(fm->model);
    double *xd = malloc(n * f * sizeof *xd);
    double *ead = malloc((e * (size_t)d + 1) * sizeof *ead);
    double *yd = malloc(n * w * sizeof *yd);
    FUZZ_CHECK(xd && ead && yd);
    for (size_t k = 0; k < n * f; k++) xd[k] = x[k];
    for (size_t k = 0; k < e * (size_t)d; k++) ead[k] = ea[k];
    FUZZ_CHECK(ref_forward(fm->ref.layers, fm->ref.num_layers, n, e, ei, ei + e,
                           d ? ead : NULL, d, xd, yd, NULL) == 0);
    double rel = ref_rel_error_f32(y, yd, n * w);
    if (!(rel <= 1e-5)) {
        fprintf(stderr, "y differs from the reference by %.3e (N=%zu E=%zu)\n", rel,
                n, e);
        abort();
    }
    free(xd);
    free(ead);
    free(yd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size};
    fuzz_model *fm = &models[take_u8(&r) % NUM_MODELS];
    uint8_t flags = take_u8(&r);
    int wide = flags & 1, valid = flags & 2, tamed = flags & 4, fresh = flags & 8;
    int validate = !(flags & 16);
    size_t n = 1 + take_u8(&r) % MAX_N;
    uint16_t e16;
    take(&r, &e16, 2);
    size_t e = e16 % (MAX_E + 1);
    size_t d = (size_t)gk_model_edge_dim(fm->model);
    size_t f = (size_t)gk_model_in_features(fm->model);
    size_t w = (size_t)gk_model_out_features(fm->model);

    /* raw indices as the caller passes them, and the same as int64 */
    int64_t *ei64 = calloc(2 * e + 1, sizeof *ei64);
    int32_t *ei32 = calloc(2 * e + 1, sizeof *ei32);
    float *ea = calloc(e * d + 1, sizeof *ea);
    float *x = calloc(n * f, sizeof *x);
    float *y = calloc(n * w, sizeof *y);
    FUZZ_CHECK(ei64 && ei32 && ea && x && y);
    for (size_t k = 0; k < 2 * e; k++) {
        if (wide) {
            take(&r, &ei64[k], 8);
            if (valid) ei64[k] = (int64_t)((uint64_t)ei64[k] % n);
        } else {
            take(&r, &ei32[k], 4);
            if (valid) ei32[k] = (int32_t)((uint32_t)ei32[k] % n);
            ei64[k] = ei32[k];
        }
    }
    take(&r, ea, e * d * sizeof *ea);
    take(&r, x, n * f * sizeof *x);
    if (tamed) {
        for (size_t k = 0; k < e * d; k++) ea[k] = tame(ea[k]);
        for (size_t k = 0; k < n * f; k++) x[k] = tame(x[k]);
    }

    gk_error err;
    gk_graph *fresh_graph = NULL;
    const void *ei = wide ? (const void *)ei64 : (const void *)ei32;
    gk_index_type type = wide ? GK_INDEX_I64 : GK_INDEX_I32;
    gk_status st = fresh ? gk_graph_from_coo(fm->model, n, e, ei, type, d ? ea : NULL,
                                             &fresh_graph, &err)
                         : gk_graph_set_coo(fm->graph, n, e, ei, type, d ? ea : NULL, &err);
    gk_graph *g = fresh ? fresh_graph : fm->graph;
    gk_plan *plan = fm->plan[!validate];
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        FUZZ_CHECK(st == GK_EINDEX || st == GK_ENONFINITE);
        FUZZ_CHECK(!valid || st == GK_ENONFINITE);
        FUZZ_CHECK(!tamed || st == GK_EINDEX);
        if (fresh) {
            FUZZ_CHECK(fresh_graph == NULL);
        } else {  /* the reused graph must now refuse inference */
            FUZZ_CHECK(gk_infer(plan, g, x, y, &err) == GK_EINVAL);
        }
    } else {
        FUZZ_CHECK(gk_graph_num_nodes(g) == n && gk_graph_num_edges(g) == e);
        st = gk_infer(plan, g, x, y, &err);
        if (st != GK_OK) {
            fuzz_check_failure(st, &err);
            FUZZ_CHECK(validate && !tamed && st == GK_ENONFINITE);
        } else {
            int layers = gk_model_num_layers(fm->model);
            for (int l = 0; l < layers; l++) {
                size_t edges = 0;
                gk_plan_attention(plan, l, &edges, NULL);
                FUZZ_CHECK(edges == gk_graph_layer_edges(g, l, NULL, NULL, 0));
            }
            if (tamed) compare_with_reference(fm, n, e, ei64, ea, x, y);
        }
    }
    gk_graph_free(fresh_graph);
    free(ei64);
    free(ei32);
    free(ea);
    free(x);
    free(y);
    return 0;
}
