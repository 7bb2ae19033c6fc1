/* Fault injection after loading: fail the n-th allocation for n = 1, 2, ...
 * of graph creation, gk_graph_from_coo, plan creation (with and without
 * attention buffers, with worker threads), the publisher, the correlation
 * builder, and of the whole pipeline from the model file to the
 * first inference. Every failure must be GK_ENOMEM with *out left NULL and
 * nothing leaked (LeakSanitizer in the ASan build, valgrind by hand); the
 * first success must come when the n-th allocation no longer happens, so a
 * failed allocation is never silently ignored. */
#include <stdlib.h>
#include <string.h>

#include "alloc_testing.h"
#include "loader_check.h"
#include "model.h"

#define MAX_ALLOCATIONS 10000

static const char *fixtures;

/* One attempt under injection: returns its status; frees what it made. */
typedef gk_status (*attempt_fn)(const gk_model *m, gk_error *err);

enum { N = 6, E = 9 };
static const int64_t edge_index[2 * E] = {0, 1, 2, 3, 4, 5, 0, 2, 3,
                                          1, 2, 3, 4, 5, 0, 0, 2, 3};
static float edge_attr[E * 8];

static gk_status attempt_graph_create(const gk_model *m, gk_error *err) {
    gk_graph *g = (gk_graph *)&g;  /* must be reset to NULL on failure */
    gk_status st = gk_graph_create(m, N, E, &g, err);
    if (st != GK_OK) CHECK(g == NULL);
    gk_graph_free(g);
    return st;
}

static gk_status attempt_graph_from_coo(const gk_model *m, gk_error *err) {
    gk_graph *g = (gk_graph *)&g;
    gk_status st = gk_graph_from_coo(m, N, E, edge_index, GK_INDEX_I64,
                                     gk_model_edge_dim(m) ? edge_attr : NULL, &g, err);
    if (st != GK_OK) CHECK(g == NULL);
    gk_graph_free(g);
    return st;
}

static gk_status attempt_plan(const gk_model *m, int keep_attention, int threads,
                              gk_error *err) {
    gk_plan_options opt = gk_plan_default_options();
    opt.keep_attention = keep_attention;
    opt.threads = threads;
    gk_plan *p = (gk_plan *)&p;
    gk_status st = gk_plan_create(m, N, E, &opt, &p, err);
    if (st != GK_OK) CHECK(p == NULL);
    gk_plan_free(p);
    return st;
}

static gk_status attempt_plan_plain(const gk_model *m, gk_error *err) {
    return attempt_plan(m, 0, 1, err);
}

static gk_status attempt_plan_attention(const gk_model *m, gk_error *err) {
    return attempt_plan(m, 1, 1, err);
}

/* Worker threads already started must be joined when a later allocation
 * fails (a leaked thread shows as a leak of its stack under ASan). */
static gk_status attempt_plan_threads(const gk_model *m, gk_error *err) {
    return attempt_plan(m, 1, 3, err);
}

static gk_status attempt_publisher(const gk_model *m, gk_error *err) {
    gk_publisher *pub = (gk_publisher *)&pub;
    gk_status st = gk_publisher_create(m, N, E, 4, 100, &pub, err);
    if (st != GK_OK) CHECK(pub == NULL);
    gk_publisher_free(pub);
    return st;
}

/* The correlation builder and a graph built from it. */
static gk_status attempt_corr(const gk_model *m, gk_error *err) {
    gk_corr *c = (gk_corr *)&c;
    gk_graph *g = NULL;
    gk_status st = gk_corr_create(N, 5, NULL, &c, err);
    if (st != GK_OK) {
        CHECK(c == NULL);
        return st;
    }
    st = gk_graph_create(m, N, N * (N - 1), &g, err);
    for (int t = 0; st == GK_OK && t < 6; t++) {
        float r[N];
        for (int i = 0; i < N; i++) r[i] = (float)((i * 7 + t * 3) % 11) - 5.0f;
        st = gk_corr_push(c, r, err);
    }
    gk_corr_rule rule = {0.1f, 2, 1};
    if (st == GK_OK) st = gk_corr_build_graph(c, &rule, g, NULL, err);
    gk_graph_free(g);
    gk_corr_free(c);
    return st;
}

static const char *pipeline_fixture;

/* File -> model -> graph -> plan -> inference, failing anywhere. */
static gk_status attempt_pipeline(const gk_model *unused, gk_error *err) {
    (void)unused;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.model.safetensors", fixtures, pipeline_fixture);
    gk_model *m = NULL;
    gk_graph *g = NULL;
    gk_plan *p = NULL;
    gk_status st = gk_model_load_file(path, &m, err);
    if (st == GK_OK)
        st = gk_graph_from_coo(m, N, E, edge_index, GK_INDEX_I64,
                               gk_model_edge_dim(m) ? edge_attr : NULL, &g, err);
    if (st == GK_OK) st = gk_plan_create(m, N, E, NULL, &p, err);
    if (st == GK_OK) {
        size_t f = (size_t)gk_model_in_features(m), w = (size_t)gk_model_out_features(m);
        float *x = calloc(N * f, sizeof *x), *y = calloc(N * w, sizeof *y);
        CHECK(x && y);
        if (x && y) CHECK(gk_infer(p, g, x, y, err) == GK_OK);
        free(x);
        free(y);
    }
    gk_plan_free(p);
    gk_graph_free(g);
    gk_model_free(m);
    return st;
}

/* n = 1, 2, ...: each failure GK_ENOMEM; the first success only once the
 * n-th allocation is no longer reached. Returns the allocation count. */
static long fail_each(const char *what, const gk_model *m, attempt_fn attempt) {
    long n;
    for (n = 1; n < MAX_ALLOCATIONS; n++) {
        gk_error err;
        memset(&err, 0, sizeof err);
        gk_test_fail_alloc_after(n);
        gk_status st = attempt(m, &err);
        long pending = gk_test_alloc_countdown();
        gk_test_fail_alloc_after(0);
        if (st == GK_OK) {
            if (pending == 0)
                fprintf(stderr, "%s: allocation %ld failed but the call succeeded\n",
                        what, n);
            CHECK(pending > 0);
            break;
        }
        if (st != GK_ENOMEM)
            fprintf(stderr, "%s, allocation %ld failed: %s (%s)\n", what, n,
                    gk_strerror(st), err.message);
        CHECK(st == GK_ENOMEM);
        CHECK(err.status == st && err.message[0] != '\0');
    }
    CHECK(n > 1 && n < MAX_ALLOCATIONS);
    printf("  %-22s %4ld allocations, each failure handled\n", what, n - 1);
    return n - 1;
}

static void run_fixture(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.model.safetensors", fixtures, name);
    gk_model *m = NULL;
    gk_error err;
    CHECK_STATUS(gk_model_load_file(path, &m, &err), GK_OK, &err);
    if (!m) return;
    printf("%s:\n", name);
    fail_each("gk_graph_create", m, attempt_graph_create);
    fail_each("gk_graph_from_coo", m, attempt_graph_from_coo);
    long plain = fail_each("gk_plan_create", m, attempt_plan_plain);
    long attn = fail_each("gk_plan_create+attn", m, attempt_plan_attention);
    CHECK(attn > plain);  /* the attention buffers were exercised too */
    fail_each("gk_plan_create 3 thr", m, attempt_plan_threads);
    fail_each("gk_publisher_create", m, attempt_publisher);
    if (gk_model_edge_dim(m) <= 1) fail_each("gk_corr_* + graph", m, attempt_corr);
    pipeline_fixture = name;
    fail_each("file..gk_infer", NULL, attempt_pipeline);
    gk_model_free(m);
}

int main(int argc, char **argv) {
    fixtures = argc > 1 ? argv[1] : "tests/fixtures";
    for (size_t k = 0; k < sizeof edge_attr / sizeof edge_attr[0]; k++)
        edge_attr[k] = (float)(k % 5) * 0.25f - 0.5f;
    /* GAT plain; edge features with fill "add"; residual; GATv2; no loops;
     * mixed self-loop policies (more than one CSR view) */
    const char *names[] = {"ref_dense_n100", "fill_add_n24_edge3", "residual_n30",
                           "gatv2_quirky_n16_edge1", "noselfloops_n10",
                           "quirky_edge2_n20_h3mean"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) run_fixture(names[k]);
    return check_report("test_alloc_failure_plan");
}
