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

/* A model accepted by the loader must be usable: plan, graph, inference on
 * a 5-node graph with a duplicate edge, a self loop and an isolated node,
 * every accessor, attention weights. Values may overflow (weights are only
 * required to be finite), so only memory safety and statuses are checked. */
static inline void fuzz_exercise_model(const gk_model *m) {
    enum { N = 5, E = 6 };
    const int64_t ei[2 * E] = {0, 1, 2, 3, 1, 2, /* sources */
                               1, 2, 0, 3, 2, 0};  /* targets; 4 isolated */
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
