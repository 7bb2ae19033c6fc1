/* graphkern bench: the harness behind `graphkern bench` (docs/performance.md).
 *
 *   scenarios.c  the named scenarios and their inputs (fixed-seed graphs)
 *   flops.c      the documented FLOP count of one inference
 *   peak.c       this machine's FMA peak, measured by a short loop per ISA
 *   counters.c   peak RSS, heap growth and page faults around a loop
 *   stats.c      percentiles and latency histograms
 *   report.c     the human table, JSON lines and the SVG plot
 *
 * Everything here is plain C against the public API (graphkern.h) only. */
#ifndef GK_BENCH_H
#define GK_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "graphkern.h"

/* ---- scenarios ----------------------------------------------------------- */

/* BENCH_TICK: the trading tick loop (src/cli/tick.h), not a fixed graph: one
 * timed run = push returns + rebuild the correlation graph + infer. */
typedef enum bench_graph_kind { BENCH_DENSE = 0, BENCH_TOPK = 1, BENCH_TICK = 2 } bench_graph_kind;

typedef struct bench_scenario {
    char name[48];           /* e.g. "topk16_n1000_edge1"                   */
    bench_graph_kind kind;
    int nodes;
    int k;                   /* sources per target (topk), 0 for dense      */
    int edge_dim;            /* 0 or 1: edge_attr = correlation             */
    int default_runs;        /* measured runs unless --runs says otherwise  */
    int quick_runs;          /* with --quick (tests: fields, not timings)   */
                             /* (tick scenarios run for a time instead)    */
} bench_scenario;

/* The scenarios of docs/performance.md, each without and with one edge feature,
 * then the tick scenarios tick_n100 and tick_n1000. */
extern const bench_scenario bench_scenarios[];
extern const int bench_num_scenarios;
const bench_scenario *bench_find_scenario(const char *name);

enum { BENCH_VARIANTS = 8 };  /* inputs rotated through while timing */

/* Inputs of one scenario: BENCH_VARIANTS graphs and feature matrices, each
 * generated from its own seed, all built before any timing. */
typedef struct bench_inputs {
    const bench_scenario *scenario;
    size_t nodes, edges;          /* input edges per graph (same for all)   */
    int variants;
    gk_graph *graph[BENCH_VARIANTS];
    float *x[BENCH_VARIANTS];     /* [nodes, in_features], 64-byte aligned  */
    int64_t *edge_index[BENCH_VARIANTS]; /* [2, edges]: the COO of graph[v] */
    float *edge_attr[BENCH_VARIANTS];    /* [edges] or NULL (edge_dim 0)     */
    float *y;                     /* [nodes, out_features]                  */
} bench_inputs;

/* Build the inputs of scenario s for model m (deterministic: fixed seeds). */
gk_status bench_build_inputs(const bench_scenario *s, const gk_model *m,
                             bench_inputs *out, gk_error *err);
void bench_free_inputs(bench_inputs *in);

/* ---- FLOP count ---------------------------------------------------------- */

/* FLOPs of one inference of model m on graph g, counted on the edges each
 * layer sees after self loops (docs/performance.md says what is counted). */
double bench_flops(const gk_model *m, const gk_graph *g);

/* ---- FMA peak ------------------------------------------------------------ */

typedef struct bench_peak {
    double avx512_gflops;   /* 0 when the CPU (or OS) has no AVX-512F */
    double avx2_gflops;     /* 0 when no AVX2+FMA                      */
    double scalar_gflops;   /* scalar fmaf chains                      */
    double neon_gflops;     /* AArch64 Advanced SIMD; 0 elsewhere      */
    double best_gflops;
    const char *best_isa;
} bench_peak;

/* Measure single-core FMA throughput per ISA (about 0.1 s in all). */
void bench_measure_peak(bench_peak *out);

/* ---- counters ------------------------------------------------------------ */

typedef struct bench_counters {
    long minor_faults, major_faults;
    long long heap_bytes;        /* mallinfo2: arena in use + mmapped      */
    long long heap_chunks;       /* mallinfo2: mmapped chunk count         */
    int voluntary_cs, involuntary_cs;
} bench_counters;

void bench_counters_read(bench_counters *out);
/* Reset the kernel's peak-RSS mark to the current RSS (clear_refs "5");
 * returns 0 if that is not possible (then peak RSS is the process peak). */
int bench_reset_peak_rss(void);
/* Peak resident set size in MiB since the last reset (VmHWM). */
double bench_peak_rss_mb(void);

/* ---- statistics ---------------------------------------------------------- */

/* Runs per batch of the best-batch figure: short enough to fall between
 * other processes' time slices, long enough to average the clock's cost. */
enum { BENCH_BATCH = 20 };

typedef struct bench_stats {
    size_t runs;
    double p50, p90, p99, p999, max, min, mean;   /* microseconds */
    /* the fastest BENCH_BATCH consecutive runs' mean (all runs' when
     * fewer): on a shared machine, the figure that moves least between
     * runs of one binary, for before/after ratios */
    double best_batch;
} bench_stats;

/* Takes the best batch from ns[count] in run order, then sorts it in place
 * and fills the percentiles (nearest rank). */
void bench_stats_compute(uint64_t *ns, size_t count, bench_stats *out);

/* The machine's tail (bench/noise.c): core-only work calibrated to
 * target_us, timed `runs` times like an inference. */
typedef struct bench_noise {
    bench_stats stats;
    int cpu;                     /* where it ran                          */
    double timer_per_s;          /* local timer interrupts/s there, or -1 */
    long context_switches;       /* during its loop                       */
} bench_noise;

int bench_noise_floor(double target_us, size_t runs, bench_noise *out);

enum { BENCH_HIST_BINS = 16 };

/* Log-spaced bins from lo_us to hi_us; values outside go to the end bins. */
typedef struct bench_hist {
    double lo_us, hi_us;
    size_t count[BENCH_HIST_BINS];
} bench_hist;

void bench_hist_fill(bench_hist *h, double lo_us, double hi_us,
                     const uint64_t *ns, size_t count);
double bench_hist_edge(const bench_hist *h, int bin);   /* lower edge, us */

/* ---- one measured configuration ----------------------------------------- */

typedef struct bench_result {
    const bench_scenario *scenario;
    size_t nodes, edges;
    const char *path;            /* "specialized" or "generic"             */
    char kernel[160];            /* kernels per layer, joined by '+'        */
    char isa[24];                /* from the kernel names' __isa suffix     */
    int threads;
    int cpu;                     /* -1: not pinned                          */
    size_t warmup;
    bench_stats stats;
    double graphs_per_s;
    double peak_rss_mb;
    int rss_reset;               /* 1: peak RSS of this configuration only  */
    long long heap_delta_bytes;
    long long heap_chunks_delta;
    long page_faults;
    long context_switches;
    double flops, gflops, pct_of_peak;
    double cpu_p50_us, cpu_p99_us;  /* tick scenarios: the calling thread's
                                       CPU time per tick                   */
    uint64_t *ns;                /* sorted latencies (owned)                */
} bench_result;

/* ---- reports ------------------------------------------------------------- */

void bench_print_header(FILE *to, const bench_peak *peak, int cpu);
void bench_print_row(FILE *to, const bench_result *r);
void bench_print_json(FILE *to, const bench_result *r, const bench_peak *peak);
/* Histograms of every configuration of one scenario, side by side. */
void bench_print_hist(FILE *to, const bench_result *r, int count);
/* One panel per scenario, one curve per configuration. 0 on success. */
int bench_write_svg(const char *path, const bench_result *r, int count);

#endif
