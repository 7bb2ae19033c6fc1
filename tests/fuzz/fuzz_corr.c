/* Fuzz the correlation builder (gk_corr_*): window and asset counts, the
 * recompute period, the graph rule, and a stream of returns (raw floats:
 * NaN, Inf, huge and subnormal values included, or tame ones).
 *
 * Input: [0] N-2 (N <= 16)  [1] T-2 (T <= 16)  [2] recompute_every (0..4)
 *        [3] top_k (0..N)  [4] flags: bit0 symmetric, bit1 the edge_dim-1
 *        model, bit2 tame returns  [5] threshold byte; then pushes of N
 *        floats each.
 * Properties after every push: counts; rho finite, |rho| <= 1, symmetric,
 * rho_ii = 1 exactly for valid assets and rows of invalid assets all 0; the
 * graph holds only edges the rule allows (valid endpoints, |rho| >= the
 * threshold, no self loop, top_k per target without symmetric) and
 * gk_infer runs on it. */
#include <math.h>

#include "fuzz_common.h"

#define MAX_N 16

static gk_model *models[2];
static gk_graph *graphs[2];
static gk_plan *plans[2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    models[0] = fuzz_load_fixture("quirky_n12");              /* no edge features */
    models[1] = fuzz_load_fixture("gatv2_quirky_n16_edge1");  /* edge_attr = rho */
    FUZZ_CHECK(gk_model_edge_dim(models[0]) == 0 && gk_model_edge_dim(models[1]) == 1);
    gk_error err;
    for (int k = 0; k < 2; k++) {
        FUZZ_CHECK(gk_graph_create(models[k], MAX_N, MAX_N * (MAX_N - 1), &graphs[k],
                                   &err) == GK_OK);
        FUZZ_CHECK(gk_plan_create(models[k], MAX_N, MAX_N * (MAX_N - 1), NULL, &plans[k],
                                  &err) == GK_OK);
    }
    return 0;
}

static void check_rho(gk_corr *c, size_t n, float *rho) {
    gk_corr_matrix(c, rho);
    for (size_t i = 0; i < n; i++) {
        int valid = gk_corr_valid(c, i);
        FUZZ_CHECK(rho[i * n + i] == (valid ? 1.0f : 0.0f));
        for (size_t j = 0; j < n; j++) {
            float r = rho[i * n + j];
            FUZZ_CHECK(isfinite(r) && fabsf(r) <= 1.0f);
            FUZZ_CHECK(r == rho[j * n + i]);
            if (!valid || !gk_corr_valid(c, j)) FUZZ_CHECK(i == j || r == 0.0f);
        }
    }
}

static void check_graph(gk_corr *c, const gk_corr_rule *rule, int k, size_t n,
                        const float *rho, const float *x, float *y) {
    gk_graph *g = graphs[k];
    size_t e = 0;
    gk_error err;
    gk_status st = gk_corr_build_graph(c, rule, g, &e, &err);
    FUZZ_CHECK(st == GK_OK);
    FUZZ_CHECK(gk_graph_num_nodes(g) == n && gk_graph_num_edges(g) == e);
    FUZZ_CHECK(e <= n * (n - 1));
    int64_t src[MAX_N * MAX_N + MAX_N], dst[MAX_N * MAX_N + MAX_N];
    size_t got = gk_graph_layer_edges(g, 0, src, dst, sizeof src / sizeof src[0]);
    size_t indeg[MAX_N] = {0}, loops = 0;
    float threshold = rule->threshold > 0.0f ? rule->threshold : 0.0f;
    for (size_t m = 0; m < got; m++) {
        size_t j = (size_t)src[m], i = (size_t)dst[m];
        FUZZ_CHECK(j < n && i < n);
        if (i == j) {  /* only the loops the model's layer adds */
            loops++;
            continue;
        }
        indeg[i]++;
        FUZZ_CHECK(gk_corr_valid(c, i) && gk_corr_valid(c, j));
        FUZZ_CHECK(fabsf(rho[i * n + j]) >= threshold);
    }
    FUZZ_CHECK(got - loops == e);
    if (rule->top_k && !rule->symmetric)
        for (size_t i = 0; i < n; i++) FUZZ_CHECK(indeg[i] <= (size_t)rule->top_k);
    FUZZ_CHECK(gk_infer(plans[k], g, x, y, &err) == GK_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    size_t n = 2 + data[0] % (MAX_N - 1), t = 2 + data[1] % 15;
    gk_corr_options opt = gk_corr_default_options();
    opt.recompute_every = data[2] % 5;
    gk_corr_rule rule = {(float)data[5] / 255.0f * 1.2f - 0.1f, (int)(data[3] % (n + 1)),
                         data[4] & 1};
    int k = (data[4] >> 1) & 1, tame = data[4] & 4;
    data += 6;
    size -= 6;
    gk_corr *c = NULL;
    gk_error err;
    FUZZ_CHECK(gk_corr_create(n, t, &opt, &c, &err) == GK_OK);
    size_t f = (size_t)gk_model_in_features(models[k]);
    size_t w = (size_t)gk_model_out_features(models[k]);
    float *x = calloc(n * f, sizeof *x), *y = calloc(n * w, sizeof *y);
    float *rho = calloc(n * n, sizeof *rho), *returns = calloc(n, sizeof *returns);
    FUZZ_CHECK(x && y && rho && returns);
    for (size_t i = 0; i < n * f; i++) x[i] = (float)sin((double)i);
    uint64_t pushes = 0;
    while (size >= n * sizeof(float) && pushes < 64) {
        memcpy(returns, data, n * sizeof(float));
        data += n * sizeof(float);
        size -= n * sizeof(float);
        if (tame)
            for (size_t i = 0; i < n; i++)
                returns[i] = isfinite(returns[i]) ? (float)sin((double)returns[i]) : 0.01f;
        FUZZ_CHECK(gk_corr_push(c, returns, &err) == GK_OK);
        pushes++;
        FUZZ_CHECK(gk_corr_ticks(c) == pushes);
        FUZZ_CHECK(gk_corr_count(c) == (pushes < t ? pushes : t));
        check_rho(c, n, rho);
        check_graph(c, &rule, k, n, rho, x, y);
    }
    gk_corr_free(c);
    free(x);
    free(y);
    free(rho);
    free(returns);
    return 0;
}
