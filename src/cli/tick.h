/* The trading tick loop behind `graphkern demo` and the bench scenarios
 * tick_n100 / tick_n1000: returns -> gk_corr_push -> gk_corr_build_graph ->
 * gk_infer, on a built-in market or a returns CSV, with a bundled model.
 *
 *   market.c         deterministic multi-sector factor model; CSV returns
 *   example_model.c  the bundled GAT (random weights, fixed seed)
 *   tick.c           the engine (one tick = push + rebuild + infer) and the
 *                    bench entry points below
 *
 * `graphkern bench` (src/cli/cmd_bench.c) calls tick_bench_run("tick_n100" or
 * "tick_n1000", isa, threads, cpu, seconds, &result, &err) and reports its
 * fields; tick_bench_update_vs_recompute() times one incremental correlation
 * update against one full recompute. Both use only the public API. */
#ifndef GK_TICK_H
#define GK_TICK_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"

/* ---- market ---------------------------------------------------------------- */

typedef struct market market;

/* A deterministic market of n assets in `sectors` sectors (seeded): each
 * return = beta_i * market + gamma_i * sector factor + idiosyncratic noise,
 * with sector loadings that drift in regimes so the graph keeps changing. */
market *market_create(size_t n, int sectors, uint64_t seed);

/* A market replaying a CSV of returns: one row per tick, one column per
 * asset, an optional header line; empty or non-numeric cells are NaN (a
 * halted asset). It loops when the file ends. NULL with *why set on error. */
market *market_from_csv(const char *path, const char **why);

size_t market_assets(const market *m);
int market_sector(const market *m, size_t asset);   /* -1 for a CSV      */
const char *market_name(const market *m, size_t asset); /* header or NULL */
void market_next(market *m, float *returns);        /* [n] one tick     */
void market_free(market *m);

/* ---- the bundled model ---------------------------------------------------- */

enum { EXAMPLE_FEATURES = 32 };

/* GATConv(32 -> 16 x 4 heads, concat, ELU, edge_dim 1) -> GATConv(64 -> 1,
 * edge_dim 1): one score per asset. Weights are random with a fixed seed:
 * it shows the pipeline and its speed, it predicts nothing. */
gk_status example_model_create(gk_model **out, gk_error *err);

/* ---- the engine ------------------------------------------------------------ */

typedef struct tick_config {
    size_t nodes;          /* assets of the built-in market               */
    size_t window;         /* rows of the correlation window              */
    gk_corr_rule rule;     /* threshold / top_k / symmetric               */
    int threads;           /* plan threads                                */
    gk_isa isa;            /* plan ISA: GK_ISA_AUTO, or GK_ISA_GENERIC ... */
    int pin_first_cpu;     /* plan option; -1: no pinning                 */
    int recompute_every;   /* gk_corr option                              */
    const char *returns_csv; /* NULL: the built-in market                 */
    uint64_t seed;
} tick_config;

/* Defaults: 100 assets, window 256, top-16 symmetric, 1 thread, K 1024. */
tick_config tick_default_config(void);

typedef struct tick_engine {
    market *market;
    gk_model *model;
    gk_corr *corr;
    gk_graph *graph;
    gk_plan *plan;
    size_t n;
    tick_config config;
    float *returns;        /* [n]                                          */
    float *x;              /* [n, EXAMPLE_FEATURES] lagged, scaled returns */
    float *y;              /* [n] scores                                   */
    size_t edges;          /* input edges of the last graph                */
    uint64_t ticks;
    uint64_t stage_ns[3];  /* last tick: window update (push + features),
                              graph rebuild, inference                    */
} tick_engine;

enum { TICK_STAGE_WINDOW, TICK_STAGE_GRAPH, TICK_STAGE_INFER, TICK_STAGES };

gk_status tick_engine_create(const tick_config *cfg, tick_engine *e, gk_error *err);
void tick_engine_free(tick_engine *e);

/* Warm the window: push `ticks` returns without building or inferring. */
void tick_engine_fill(tick_engine *e, size_t ticks);

/* One tick: next returns -> push -> rebuild the graph -> infer. *ns gets
 * the time of the three library steps (not the market's), e->stage_ns
 * each one's. With threads > 1 the corr object runs its O(N^2) passes on
 * the plan's threads (gk_corr_options.threads_of). */
gk_status tick_engine_step(tick_engine *e, uint64_t *ns, gk_error *err);

/* ---- bench entry points ---------------------------------------------------- */

typedef struct tick_bench_result {
    char scenario[32];
    size_t nodes, edges;   /* edges: mean input edges per tick            */
    int threads;
    char kernel[160];      /* the plan's kernels per layer, '+'-joined     */
    uint64_t ticks;
    double p50_us, p90_us, p99_us, p999_us, max_us;  /* wall clock per tick */
    double ticks_per_s;
    double cpu_p50_us, cpu_p99_us; /* CPU time of the calling thread per tick:
                                      robust to a shared machine; with
                                      threads > 1 it misses the workers' part */
    uint64_t *ns;          /* the `ticks` wall-clock latencies (ns), sorted;
                              malloc'd, the caller frees them            */
} tick_bench_result;

/* Scenario "tick_n100" or "tick_n1000": built-in market, window 256,
 * top-16 symmetric, one tick = push + rebuild + infer, for `seconds` (> 0)
 * after a full window of warm-up (pushes only). The plan gets `isa`
 * (GK_ISA_AUTO: the specialized path; GK_ISA_GENERIC: the generic one),
 * `threads` and pin_first_cpu = `first_cpu` (-1: none). */
gk_status tick_bench_run(const char *scenario, gk_isa isa, int threads, int first_cpu,
                         double seconds, tick_bench_result *out, gk_error *err);

/* Median CPU time (of the calling thread) of one incremental push vs one
 * full recompute (dsyrk) for n assets and a window of `window` rows, in
 * microseconds. */
gk_status tick_bench_update_vs_recompute(size_t n, size_t window, double *update_us,
                                         double *recompute_us, gk_error *err);

#endif
