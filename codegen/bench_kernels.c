#define _POSIX_C_SOURCE 200809L
/* Codegen's own latency check (not the bench/ suite): µs per inference of
 * the reference scenarios, each ISA against the generic path, same process.
 *   gk_codegen_bench tests/fixtures [reps] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture_case.h"
#include "graphkern.h"
#include "select.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median µs of `reps` inferences. */
static double bench(const gk_model *m, size_t n, size_t e, const int64_t *ei,
                    const float *ea, const float *x, gk_isa isa, int reps,
                    char *kernel, size_t ksize) {
    gk_graph *g = NULL;
    gk_plan *p = NULL;
    gk_plan_options o = gk_plan_default_options();
    o.isa = isa;
    o.validate_inputs = 0;
    if (gk_graph_from_coo(m, n, e, ei, GK_INDEX_I64, ea, &g, NULL) != GK_OK ||
        gk_plan_create(m, n, e, &o, &p, NULL) != GK_OK)
        return -1;
    snprintf(kernel, ksize, "%s", gk_plan_layer_kernel(p, 0));
    float *y = malloc(n * (size_t)gk_model_out_features(m) * sizeof *y);
    double *t = malloc((size_t)reps * sizeof *t);
    for (int r = 0; r < 50; r++) gk_infer(p, g, x, y, NULL);
    /* batches of 20 calls: a VM's clock read can cost a microsecond */
    for (int r = 0; r < reps; r++) {
        double t0 = now_us();
        for (int b = 0; b < 20; b++) gk_infer(p, g, x, y, NULL);
        t[r] = (now_us() - t0) / 20;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_d);
    double med = t[reps / 2];
    free(t);
    free(y);
    gk_plan_free(p);
    gk_graph_free(g);
    return med;
}

static void scenario(const char *label, const gk_model *m, size_t n, size_t e,
                     const int64_t *ei, const float *ea, const float *x, int reps) {
    char k[128], kg[128];
    const char *only = getenv("GK_BENCH_ONLY");
    if (only && strcmp(only, label) != 0) return;
    double gen = getenv("GK_BENCH_NO_GENERIC")
                     ? 0.0 : bench(m, n, e, ei, ea, x, GK_ISA_GENERIC, reps, kg, sizeof kg);
    for (int q = 0; q < gk_isa_count(); q++) {  /* the ISA table, best first */
        gk_isa isa = gk_isa_at(q);
        if (getenv("GK_BENCH_NO_GENERIC") && q > 0) continue;
        double us = bench(m, n, e, ei, ea, x, isa, reps, k, sizeof k);
        if (us < 0) continue;
        printf("%-14s %-7s %8.2f us  generic %8.2f us  x%.1f  (%s)\n", label,
               gk_isa_name(isa), us, gen, gen / us, k);
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    int reps = argc > 2 ? atoi(argv[2]) : 2000;
    const char *cases[][2] = {{"dense100", "ref_dense_n100"},
                              {"topk10_n100", "ref_topk10_n100"},
                              {"topk16_n1000", "ref_topk16_n1000_edge1"}};
    fixture_case fc;
    for (int c = 0; c < 3; c++) {
        if (fixture_load(dir, cases[c][1], &fc)) return 1;
        scenario(cases[c][0], fc.model, fc.num_nodes, fc.num_edges, fc.edge_index,
                 fc.edge_attr, fc.x, reps);
        if (c > 0) fixture_free(&fc);
        else {
            /* dense1000: the reference model on a complete graph of 1000 nodes */
            size_t n = 1000, e = n * (n - 1), k = 0;
            int64_t *ei = malloc(2 * e * sizeof *ei);
            float *x = malloc(n * 32 * sizeof *x);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    if (i != j) { ei[k] = (int64_t)j; ei[e + k] = (int64_t)i; k++; }
            srand(1);
            for (size_t q = 0; q < n * 32; q++) x[q] = (float)rand() / (float)RAND_MAX * 2 - 1;
            scenario("dense1000", fc.model, n, e, ei, NULL, x, reps / 10);
            free(ei);
            free(x);
            fixture_free(&fc);
        }
    }
    return 0;
}
