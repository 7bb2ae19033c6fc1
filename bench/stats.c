/* Latency percentiles (nearest rank on the sorted sample) and log-spaced
 * histograms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of the sample <= it. */
static double rank_us(const uint64_t *sorted, size_t n, double q) {
    size_t r = (size_t)ceil(q * (double)n);
    r = r < 1 ? 1 : r > n ? n : r;
    return (double)sorted[r - 1] * 1e-3;
}

/* The lowest mean of BENCH_BATCH consecutive runs (a sliding window). */
static double best_batch_us(const uint64_t *ns, size_t count) {
    size_t w = count < BENCH_BATCH ? count : BENCH_BATCH;
    uint64_t sum = 0, best;
    for (size_t k = 0; k < w; k++) sum += ns[k];
    best = sum;
    for (size_t k = w; k < count; k++) {
        sum += ns[k] - ns[k - w];
        best = sum < best ? sum : best;
    }
    return (double)best / (double)w * 1e-3;
}

void bench_stats_compute(uint64_t *ns, size_t count, bench_stats *out) {
    memset(out, 0, sizeof *out);
    out->runs = count;
    if (!count) return;
    out->best_batch = best_batch_us(ns, count);  /* before the sort */
    qsort(ns, count, sizeof *ns, compare_u64);
    double sum = 0;
    for (size_t k = 0; k < count; k++) sum += (double)ns[k];
    out->mean = sum / (double)count * 1e-3;
    out->min = (double)ns[0] * 1e-3;
    out->max = (double)ns[count - 1] * 1e-3;
    out->p50 = rank_us(ns, count, 0.50);
    out->p90 = rank_us(ns, count, 0.90);
    out->p99 = rank_us(ns, count, 0.99);
    out->p999 = rank_us(ns, count, 0.999);
}

void bench_hist_fill(bench_hist *h, double lo_us, double hi_us, const uint64_t *ns,
                     size_t count) {
    memset(h, 0, sizeof *h);
    if (!(lo_us > 0)) lo_us = 0.001;
    if (!(hi_us > lo_us * 1.01)) hi_us = lo_us * 1.01;
    h->lo_us = lo_us;
    h->hi_us = hi_us;
    double scale = BENCH_HIST_BINS / log(hi_us / lo_us);
    for (size_t k = 0; k < count; k++) {
        double us = (double)ns[k] * 1e-3;
        int b = us <= lo_us ? 0 : (int)(log(us / lo_us) * scale);
        h->count[b < 0 ? 0 : b >= BENCH_HIST_BINS ? BENCH_HIST_BINS - 1 : b]++;
    }
}

double bench_hist_edge(const bench_hist *h, int bin) {
    return h->lo_us * pow(h->hi_us / h->lo_us, (double)bin / BENCH_HIST_BINS);
}
