/* gk_batch_time_corr: the time of one correlation tick's graph work,
 * gk_corr_push then gk_corr_build_graph, for before/after ratios on a
 * shared machine.
 *
 *   gk_batch_time_corr MODEL N TICKS
 *
 * N assets of a 10-factor synthetic market (fixed seed), window 256, the
 * rule top-16 symmetric, a graph for MODEL (its edge_dim, 0 or 1, decides
 * whether rho is kept as the edge feature). The window is filled and 300
 * ticks run untimed; then each of TICKS ticks is timed alone by the calling
 * thread's CPU clock (time the thread spent elsewhere does not count), and
 * the fastest tick and the 10th and 50th percentiles are printed. Alternate
 * two builds' binaries a few times and compare the fastest figures
 * (docs/correlation.md). */
#define _POSIX_C_SOURCE 200809L  /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graphkern.h"

enum { WINDOW = 256, FACTORS = 10, WARMUP = 300 };

static double thread_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static uint64_t rng = 88172645463325252u;
static double uniform(void) {  /* xorshift64, (0, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((double)(rng >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gaussian(void) {  /* Box-Muller */
    return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int fail(const char *what, const gk_error *err) {
    fprintf(stderr, "gk_batch_time_corr: %s: %s\n", what, err->message);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: gk_batch_time_corr MODEL N TICKS\n");
        return 2;
    }
    long n = atol(argv[2]), ticks = atol(argv[3]);
    if (n < 2 || ticks < 1) {
        fprintf(stderr, "gk_batch_time_corr: need N >= 2, TICKS >= 1\n");
        return 2;
    }
    size_t assets = (size_t)n;
    gk_error err;
    gk_model *model = NULL;
    gk_graph *graph = NULL;
    gk_corr *corr = NULL;
    if (gk_model_load_file(argv[1], &model, &err) != GK_OK) return fail(argv[1], &err);
    if (gk_graph_create(model, assets, assets * (assets - 1), &graph, &err) != GK_OK)
        return fail("graph", &err);
    if (gk_corr_create(assets, WINDOW, NULL, &corr, &err) != GK_OK) return fail("corr", &err);
    float *returns = malloc(assets * sizeof *returns);
    double *loading = malloc(assets * FACTORS * sizeof *loading);
    double *tick_us = malloc((size_t)ticks * sizeof *tick_us);
    if (!returns || !loading || !tick_us) {
        fprintf(stderr, "gk_batch_time_corr: out of memory\n");
        return 1;
    }
    for (size_t q = 0; q < assets * FACTORS; q++) loading[q] = gaussian();
    const gk_corr_rule rule = {0.0f, 16, 1};
    for (long t = -(long)(WINDOW + WARMUP); t < ticks; t++) {
        double factor[FACTORS];
        for (int f = 0; f < FACTORS; f++) factor[f] = gaussian();
        for (size_t i = 0; i < assets; i++) {
            double r = 0.5 * gaussian();
            for (int f = 0; f < FACTORS; f++) r += 0.3 * loading[i * FACTORS + f] * factor[f];
            returns[i] = (float)(0.01 * r);
        }
        size_t edges = 0;
        double t0 = thread_us();
        gk_status st = gk_corr_push(corr, returns, &err);
        if (st == GK_OK) st = gk_corr_build_graph(corr, &rule, graph, &edges, &err);
        double t1 = thread_us();
        if (st != GK_OK) return fail("tick", &err);
        if (t >= 0) tick_us[t] = t1 - t0;
    }
    qsort(tick_us, (size_t)ticks, sizeof *tick_us, compare_double);
    printf("N=%ld push + build (top-16 symmetric, window %d): fastest %.1f us, p10 %.1f, "
           "p50 %.1f (%ld ticks, thread CPU time)\n",
           n, WINDOW, tick_us[0], tick_us[ticks / 10], tick_us[ticks / 2], ticks);
    free(tick_us);
    free(loading);
    free(returns);
    gk_corr_free(corr);
    gk_graph_free(graph);
    gk_model_free(model);
    return 0;
}
