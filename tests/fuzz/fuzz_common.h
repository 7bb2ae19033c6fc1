/* Shared by the fuzz targets: fixture models and a small end-to-end run.
 *
 * Every target checks properties, not only "no crash": a failing call
 * returns a status in range with its message set and leaves *out NULL; an
 * accepted model or graph runs through plan creation and gk_infer. ASan and
 * UBSan (and LeakSanitizer at exit) catch the rest. */
#ifndef GK_FUZZ_COMMON_H
#define GK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphkern.h"

#ifndef GK_FIXTURES_DIR
#define GK_FIXTURES_DIR "tests/fixtures"
#endif

/* A property violated: say which and abort so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,        \
                    __LINE__, #cond);                                        \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* A failed call: status in range, error filled in, message terminated. */
static inline void fuzz_check_failure(gk_status st, const gk_error *err) {
    FUZZ_CHECK(st > GK_OK && st < GK_STATUS_COUNT);
    FUZZ_CHECK(err->status == st);
    FUZZ_CHECK(memchr(err->message, '\0', sizeof err->message) != NULL);
    FUZZ_CHECK(err->message[0] != '\0');
}

/* Fixture model `name` (tests/fixtures/<name>.model.safetensors); aborts if
 * it does not load: the fixtures are known good. */
static inline gk_model *fuzz_load_fixture(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.model.safetensors", GK_FIXTURES_DIR, name);
    gk_model *m = NULL;
    gk_error err;
    if (gk_model_load_file(path, &m, &err) != GK_OK) {
        fprintf(stderr, "fuzz: cannot load %s: %s\n", path, err.message);
        abort();
    }
    return m;
}

/* A format-2 model: inputs from its declared shapes (nodes = 8, a ring of
 * 16 edges, tame features); gk_infer_named twice gives OK and identical
 * outputs, or a status with a message. */
enum { FUZZ_NODES = 8, FUZZ_EDGES = 16, FUZZ_MAX_FLOATS = 1 << 16 };

static inline int fuzz_program_inputs(const gk_model *m, gk_tensor *in, void **owned) {
    int n = gk_model_num_inputs(m);
    for (int i = 0; i < n; i++) {
        gk_io_info info;
        FUZZ_CHECK(gk_model_input(m, i, &info) == GK_OK);
        in[i] = (gk_tensor){.name = info.name, .ndim = info.ndim};
        size_t numel = 1;
        for (int d = 0; d < info.ndim; d++) {
            int64_t v = info.shape[d] == GK_DIM_NODES   ? FUZZ_NODES
                        : info.shape[d] == GK_DIM_EDGES ? FUZZ_EDGES
                                                        : info.shape[d];
            in[i].shape[d] = v;
            numel *= (size_t)v;
        }
        if (numel > FUZZ_MAX_FLOATS) return 0;
        if (info.integer && info.kind != GK_IO_EDGE_INDEX) {   /* indices: row 0 */
            int64_t *ix = calloc(numel ? numel : 1, sizeof *ix);
            FUZZ_CHECK(ix != NULL);
            in[i].dtype = GK_TENSOR_I64;
            in[i].data = owned[i] = ix;
        } else if (info.kind == GK_IO_EDGE_INDEX) {
            int64_t *e = malloc(2 * FUZZ_EDGES * sizeof *e);
            FUZZ_CHECK(e != NULL);
            for (int k = 0; k < FUZZ_EDGES; k++) {
                e[k] = k % FUZZ_NODES;
                e[FUZZ_EDGES + k] = (k + 1 + k / FUZZ_NODES) % FUZZ_NODES;
            }
            in[i].dtype = GK_TENSOR_I64;
            in[i].data = owned[i] = e;
        } else {
            float *x = malloc(numel * sizeof *x);
            FUZZ_CHECK(x != NULL);
            for (size_t k = 0; k < numel; k++) x[k] = (float)((k % 9) - 4) * 0.125f;
            in[i].dtype = GK_TENSOR_F32;
            in[i].data = owned[i] = x;
        }
    }
    return 1;
}

static inline void fuzz_exercise_program(const gk_model *m) {
    gk_plan *plan = NULL;
    gk_error err;
    gk_status st = gk_plan_create(m, FUZZ_NODES, FUZZ_EDGES, NULL, &plan, &err);
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        return;
    }
    int ni = gk_model_num_inputs(m);
    FUZZ_CHECK(ni >= 0 && ni <= 64 && gk_model_num_outputs(m) >= 1);
    gk_tensor in[64], out[2];
    void *owned[64] = {0};
    float *y[2] = {calloc(FUZZ_MAX_FLOATS, sizeof(float)), calloc(FUZZ_MAX_FLOATS, sizeof(float))};
    FUZZ_CHECK(y[0] && y[1]);
    gk_io_info info;
    FUZZ_CHECK(gk_model_output(m, 0, &info) == GK_OK);
    if (fuzz_program_inputs(m, in, owned)) {
        for (int k = 0; k < 2; k++)
            out[k] = (gk_tensor){.name = info.name, .data = y[k], .capacity = FUZZ_MAX_FLOATS};
        st = gk_infer_named(plan, in, (size_t)ni, &out[0], 1, &err);
        if (st != GK_OK) {
            fuzz_check_failure(st, &err);
        } else {
            FUZZ_CHECK(gk_infer_named(plan, in, (size_t)ni, &out[1], 1, &err) == GK_OK);
            size_t numel = 1;
            for (int d = 0; d < out[0].ndim; d++) numel *= (size_t)out[0].shape[d];
            FUZZ_CHECK(numel <= FUZZ_MAX_FLOATS);
            FUZZ_CHECK(memcmp(y[0], y[1], numel * sizeof(float)) == 0);
        }
    }
    char small[16];
    size_t need = gk_plan_describe(plan, small, sizeof small);
    FUZZ_CHECK(need > 0 && strlen(small) < sizeof small);
    for (int i = 0; i < 64; i++) free(owned[i]);
    free(y[0]);
    free(y[1]);
    gk_plan_free(plan);
}

/* A model accepted by the loader must be usable: plan, graph, inference on
 * a 5-node graph with a duplicate edge, a self loop and an isolated node,
 * every accessor, attention weights. Values may overflow (weights are only
 * required to be finite), so only memory safety and statuses are checked. */
static inline void fuzz_exercise_model(const gk_model *m) {
    enum { N = 5, E = 6 };
    const int64_t ei[2 * E] = {0, 1, 2, 3, 1, 2, /* sources */
                               1, 2, 0, 3, 2, 0};  /* targets; 4 isolated */
    if (gk_model_version(m) == 2) {
        fuzz_exercise_program(m);
        return;
    }
    int layers = gk_model_num_layers(m);
    FUZZ_CHECK(layers >= 1);
    size_t f = (size_t)gk_model_in_features(m);
    size_t w = (size_t)gk_model_out_features(m);
    size_t d = (size_t)gk_model_edge_dim(m);
    FUZZ_CHECK(f >= 1 && w >= 1);
    for (int l = 0; l < layers; l++) {
        gk_layer_info info;
        FUZZ_CHECK(gk_model_layer(m, l, &info) == GK_OK);
        FUZZ_CHECK(info.name && info.name[0]);
    }
    gk_layer_info info;
    FUZZ_CHECK(gk_model_layer(m, layers, &info) == GK_EINVAL);

    float *x = calloc(N * f, sizeof *x);
    float *y = calloc(N * w, sizeof *y);
    float *ea = d ? calloc(E * d, sizeof *ea) : NULL;
    FUZZ_CHECK(x && y && (!d || ea));
    for (size_t k = 0; k < N * f; k++) x[k] = (float)((k % 7) - 3) * 0.25f;
    for (size_t k = 0; k < E * d; k++) ea[k] = (float)((k % 5) - 2) * 0.5f;

    gk_plan_options opt = gk_plan_default_options();
    opt.keep_attention = 1;
    gk_plan *plan = NULL;
    gk_graph *graph = NULL;
    gk_error err;
    gk_status st = gk_plan_create(m, N, E, &opt, &plan, &err);
    if (st != GK_OK) {  /* only memory can fail here for a loaded model */
        FUZZ_CHECK(st == GK_ENOMEM || st == GK_EOVERFLOW);
        goto done;
    }
    st = gk_graph_from_coo(m, N, E, ei, GK_INDEX_I64, ea, &graph, &err);
    if (st != GK_OK) {
        FUZZ_CHECK(st == GK_ENOMEM || st == GK_EOVERFLOW);
        goto done;
    }
    FUZZ_CHECK(gk_infer(plan, graph, x, y, &err) == GK_OK);
    for (int l = 0; l < layers; l++) {
        size_t edges = 0;
        int heads = 0;
        FUZZ_CHECK(gk_plan_attention(plan, l, &edges, &heads) != NULL);
        FUZZ_CHECK(edges == gk_graph_layer_edges(graph, l, NULL, NULL, 0));
        FUZZ_CHECK(heads >= 1);
        FUZZ_CHECK(gk_plan_layer_kernel(plan, l) != NULL);
    }
    char small[16];
    size_t need = gk_plan_describe(plan, small, sizeof small);
    FUZZ_CHECK(need > 0 && strlen(small) < sizeof small);
done:
    gk_graph_free(graph);
    gk_plan_free(plan);
    free(x);
    free(y);
    free(ea);
}

#endif
