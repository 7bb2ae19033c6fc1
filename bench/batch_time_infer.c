/* gk_batch_time_infer: the time of one gk_infer as the fastest of many
 * batches, for before/after ratios on a shared machine.
 *
 *   gk_batch_time_infer MODEL N K BATCHES [--gatv2] [--vary]
 *
 * MODEL is a model file, or `example` for the demo's bundled model (the
 * tick's; its graph there is a top-16 symmetric one, ≈ 24 sources per
 * target at N = 100).
 * One graph of N nodes: for K > 0, K random sources per target (fixed
 * seed; with --vary, a random count in [K/2, 3K/2] per target instead,
 * as a top-k symmetric graph's rows vary, so that each row's loop exits
 * are not predicted by the previous row's); for K = 0, the complete graph
 * (gk_graph_set_complete). x and the
 * edge features are uniform in [-1, 1). After 50 untimed runs, BATCHES
 * batches of 20 gk_infer each are timed by the calling thread's CPU clock
 * (time the thread spent elsewhere does not count), and the fastest batch's
 * mean is printed with the 10th and 50th percentiles of the batches.
 * --gatv2 times a GATv2Conv model of MODEL's shapes instead (random
 * weights, as `graphkern bench --gatv2`). Alternate two builds' binaries
 * a few times and compare the fastest figures (docs/performance.md). */
#define _POSIX_C_SOURCE 200809L  /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_gatv2.h"
#include "graphkern.h"
#include "tick.h"

enum { BATCH = 20, WARMUP = 50 };

static double thread_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static uint64_t rng = 88172645463325252u;
static double uniform(void) {  /* xorshift64, [0, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what, const gk_error *err) {
    fprintf(stderr, "gk_batch_time_infer: %s: %s\n", what, err->message);
    return 1;
}

int main(int argc, char **argv) {
    int gatv2 = 0, vary = 0, bad = argc < 5;
    for (int a = 5; a < argc; a++) {
        if (!strcmp(argv[a], "--gatv2")) gatv2 = 1;
        else if (!strcmp(argv[a], "--vary")) vary = 1;
        else bad = 1;
    }
    if (bad) {
        fprintf(stderr, "usage: gk_batch_time_infer MODEL N K BATCHES [--gatv2] [--vary]\n"
                        "  MODEL a model file or `example` (the demo's model)\n"
                        "  K sources per target (0: the complete graph; --vary: K/2 to 3K/2)\n");
        return 2;
    }
    long n = atol(argv[2]), k = atol(argv[3]), batches = atol(argv[4]);
    if (n < 2 || k < 0 || k >= n || (vary && (k < 2 || k + k / 2 >= n)) || batches < 1) {
        fprintf(stderr, "gk_batch_time_infer: need N >= 2, 0 <= K < N (--vary: 2 <= K, "
                        "3K/2 < N), BATCHES >= 1\n");
        return 2;
    }
    gk_error err;
    gk_model *model = NULL, *v2 = NULL;
    if (strcmp(argv[1], "example") == 0) {
        if (example_model_create(&model, &err) != GK_OK) return fail("example", &err);
    } else if (gk_model_load_file(argv[1], &model, &err) != GK_OK) {
        return fail(argv[1], &err);
    }
    if (gatv2) {
        if (bench_gatv2_model(model, &v2, &err) != GK_OK) return fail("--gatv2", &err);
        gk_model_free(model);
        model = v2;
    }
    size_t nodes = (size_t)n, max_edges = nodes * (nodes - 1);
    gk_graph *graph = NULL;
    gk_plan *plan = NULL;
    if (gk_graph_create(model, nodes, max_edges, &graph, &err) != GK_OK)
        return fail("graph", &err);
    if (gk_plan_create(model, nodes, max_edges, NULL, &plan, &err) != GK_OK)
        return fail("plan", &err);
    size_t f_in = (size_t)gk_model_in_features(model), f_out = gk_model_out_features(model);
    float *x = malloc(nodes * f_in * sizeof *x), *y = malloc(nodes * f_out * sizeof *y);
    float *attr = malloc(max_edges * sizeof *attr);
    size_t k_most = (size_t)(k ? k + (vary ? k / 2 : 0) : 1);
    int32_t *edge_index = malloc(2 * nodes * k_most * sizeof *edge_index);
    double *batch_us = malloc((size_t)batches * sizeof *batch_us);
    if (!x || !y || !attr || !edge_index || !batch_us) {
        fprintf(stderr, "gk_batch_time_infer: out of memory\n");
        return 1;
    }
    for (size_t q = 0; q < nodes * f_in; q++) x[q] = (float)(uniform() * 2 - 1);
    for (size_t q = 0; q < max_edges; q++) attr[q] = (float)(uniform() * 2 - 1);
    gk_status st;
    if (k == 0) {
        st = gk_graph_set_complete(graph, nodes, 0, attr, &err);
    } else {
        size_t e = 0, cap = nodes * k_most;
        int32_t *src = edge_index, *dst = edge_index + cap;
        for (size_t i = 0; i < nodes; i++) {
            long count = vary ? k / 2 + (long)(uniform() * (double)(k + 1)) : k;
            for (long r = 0; r < count; r++, e++) {  /* any source but i */
                size_t j = (i + 1 + (size_t)(uniform() * (double)(nodes - 1))) % nodes;
                src[e] = (int32_t)(j == i ? (i + 1) % nodes : j);
                dst[e] = (int32_t)i;
            }
        }
        memmove(edge_index + e, dst, e * sizeof *dst);  /* [2, E]: targets after the sources */
        st = gk_graph_set_coo(graph, nodes, e, edge_index, GK_INDEX_I32, attr, &err);
    }
    if (st != GK_OK) return fail("graph build", &err);
    for (int w = 0; w < WARMUP; w++)
        if (gk_infer(plan, graph, x, y, &err) != GK_OK) return fail("gk_infer", &err);
    for (long b = 0; b < batches; b++) {
        double t0 = thread_us();
        for (int r = 0; r < BATCH; r++) gk_infer(plan, graph, x, y, NULL);
        batch_us[b] = (thread_us() - t0) / BATCH;
    }
    qsort(batch_us, (size_t)batches, sizeof *batch_us, compare_double);
    printf("%s%s N=%ld K=%ld%s: fastest batch %.2f us, p10 %.2f, p50 %.2f "
           "(%ld batches of %d, thread CPU time)\n",
           argv[1], v2 ? " as GATv2" : "", n, k, vary ? " (varied)" : "", batch_us[0],
           batch_us[batches / 10], batch_us[batches / 2], batches, BATCH);
    free(batch_us);
    free(edge_index);
    free(attr);
    free(y);
    free(x);
    gk_plan_free(plan);
    gk_graph_free(graph);
    gk_model_free(model);
    return 0;
}
