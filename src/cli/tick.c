/* One tick of the trading loop: returns -> correlations -> graph -> GAT.
 * Everything is allocated by tick_engine_create; a tick allocates nothing. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tick.h"

tick_config tick_default_config(void) {
    tick_config c;
    memset(&c, 0, sizeof c);
    c.nodes = 100;
    c.window = 256;
    c.rule.threshold = 0.0f;
    c.rule.top_k = 16;
    c.rule.symmetric = 1;
    c.threads = 1;
    c.isa = GK_ISA_AUTO;
    c.pin_first_cpu = -1;
    c.recompute_every = 1024;
    c.seed = 42;
    return c;
}

/* Most input edges the rule can give: N(N-1), or 2Nk with top-k. */
static size_t max_edges(size_t n, const gk_corr_rule *rule) {
    size_t all = n * (n - 1);
    size_t k = rule->top_k > 0 ? (size_t)rule->top_k : n;
    size_t topk = n * k * (rule->symmetric ? 2 : 1);
    return rule->top_k > 0 && topk < all ? topk : all;
}

gk_status tick_engine_create(const tick_config *cfg, tick_engine *e, gk_error *err) {
    memset(e, 0, sizeof *e);
    e->config = *cfg;
    if (cfg->returns_csv) {
        const char *why = NULL;
        e->market = market_from_csv(cfg->returns_csv, &why);
        if (!e->market) {
            err->status = GK_EIO;
            snprintf(err->message, sizeof err->message, "%s: %s", cfg->returns_csv, why);
            return GK_EIO;
        }
    } else {
        int sectors = cfg->nodes >= 50 ? 10 : (int)(cfg->nodes + 4) / 5;
        e->market = market_create(cfg->nodes, sectors, cfg->seed);
    }
    if (!e->market) {
        err->status = GK_EINVAL;
        snprintf(err->message, sizeof err->message, "cannot create a market of %zu assets",
                 cfg->nodes);
        return GK_EINVAL;
    }
    e->n = market_assets(e->market);
    size_t edges = max_edges(e->n, &cfg->rule);
    gk_plan_options popt = gk_plan_default_options();
    popt.threads = cfg->threads;
    popt.isa = cfg->isa;
    popt.pin_first_cpu = cfg->pin_first_cpu;
    popt.validate_inputs = 0;  /* x is built here from finite values */
    gk_status st;
    if ((st = example_model_create(&e->model, err)) != GK_OK ||
        (st = gk_graph_create(e->model, e->n, edges, &e->graph, err)) != GK_OK ||
        (st = gk_plan_create(e->model, e->n, edges, &popt, &e->plan, err)) != GK_OK) {
        tick_engine_free(e);
        return st;
    }
    gk_corr_options copt = gk_corr_default_options();
    copt.recompute_every = cfg->recompute_every;
    copt.threads_of = e->plan;  /* the tick's O(N^2) passes on the plan's threads */
    if ((st = gk_corr_create(e->n, cfg->window, &copt, &e->corr, err)) != GK_OK) {
        tick_engine_free(e);
        return st;
    }
    e->returns = calloc(e->n, sizeof *e->returns);
    e->x = aligned_alloc(64, (e->n * EXAMPLE_FEATURES * sizeof(float) + 63) / 64 * 64);
    e->y = calloc(e->n * (size_t)gk_model_out_features(e->model), sizeof *e->y);
    if (!e->returns || !e->x || !e->y) {
        tick_engine_free(e);
        err->status = GK_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
        return GK_ENOMEM;
    }
    memset(e->x, 0, e->n * EXAMPLE_FEATURES * sizeof(float));
    return GK_OK;
}

void tick_engine_free(tick_engine *e) {
    gk_plan_free(e->plan);
    gk_graph_free(e->graph);
    gk_corr_free(e->corr);
    gk_model_free(e->model);
    market_free(e->market);
    free(e->returns);
    free(e->x);
    free(e->y);
    memset(e, 0, sizeof *e);
}

/* x[i] = the asset's last 32 returns in units of 1%, newest first; a
 * missing return (halt) is 0. */
static void update_features(tick_engine *e) {
    for (size_t i = 0; i < e->n; i++) {
        float *row = e->x + i * EXAMPLE_FEATURES;
        memmove(row + 1, row, (EXAMPLE_FEATURES - 1) * sizeof *row);
        float r = e->returns[i];
        row[0] = isfinite(r) ? r * 100.0f : 0.0f;
    }
}

void tick_engine_fill(tick_engine *e, size_t ticks) {
    for (size_t t = 0; t < ticks; t++) {
        market_next(e->market, e->returns);
        gk_corr_push(e->corr, e->returns, NULL);
        update_features(e);
    }
}

gk_status tick_engine_step(tick_engine *e, uint64_t *ns, gk_error *err) {
    market_next(e->market, e->returns);
    uint64_t t0 = cli_now_ns();
    gk_status st = gk_corr_push(e->corr, e->returns, err);
    update_features(e);
    uint64_t t1 = cli_now_ns();
    if (st == GK_OK) st = gk_corr_build_graph(e->corr, &e->config.rule, e->graph,
                                              &e->edges, err);
    uint64_t t2 = cli_now_ns();
    if (st == GK_OK) st = gk_infer(e->plan, e->graph, e->x, e->y, err);
    uint64_t t3 = cli_now_ns();
    e->stage_ns[TICK_STAGE_WINDOW] = t1 - t0;
    e->stage_ns[TICK_STAGE_GRAPH] = t2 - t1;
    e->stage_ns[TICK_STAGE_INFER] = t3 - t2;
    if (ns) *ns = t3 - t0;
    e->ticks++;
    return st;
}

/* ---- bench entry points --------------------------------------------------- */

/* CPU time of the calling thread: on a shared machine the wall clock also
 * counts the time other processes held the core. */
static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Kernel names per layer, '+'-joined, or one name if all layers agree. */
static void plan_kernels(const gk_plan *plan, int layers, char *buf, size_t size) {
    int same = 1;
    for (int l = 1; l < layers; l++)
        same &= !strcmp(gk_plan_layer_kernel(plan, l), gk_plan_layer_kernel(plan, 0));
    buf[0] = '\0';
    for (int l = 0; l < (same ? 1 : layers); l++) {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", l ? "+" : "", gk_plan_layer_kernel(plan, l));
    }
}

gk_status tick_bench_run(const char *scenario, gk_isa isa, int threads, int first_cpu,
                         double seconds, tick_bench_result *out, gk_error *err) {
    tick_config cfg = tick_default_config();
    if (!strcmp(scenario, "tick_n100")) cfg.nodes = 100;
    else if (!strcmp(scenario, "tick_n1000")) cfg.nodes = 1000;
    else {
        err->status = GK_EINVAL;
        snprintf(err->message, sizeof err->message, "unknown tick scenario '%s'", scenario);
        return GK_EINVAL;
    }
    if (!(seconds > 0)) {
        err->status = GK_EINVAL;
        snprintf(err->message, sizeof err->message, "tick bench: seconds must be > 0");
        return GK_EINVAL;
    }
    cfg.threads = threads;
    cfg.isa = isa;
    cfg.pin_first_cpu = first_cpu;
    tick_engine e;
    gk_status st = tick_engine_create(&cfg, &e, err);
    if (st != GK_OK) return st;
    tick_engine_fill(&e, cfg.window);
    size_t cap = 1 << 22, count = 0;
    uint64_t *ns = malloc(cap * sizeof *ns), *cpu = malloc(cap * sizeof *cpu);
    if (!ns || !cpu) {
        free(ns);
        free(cpu);
        tick_engine_free(&e);
        err->status = GK_ENOMEM;
        snprintf(err->message, sizeof err->message, "out of memory");
        return GK_ENOMEM;
    }
    double edges = 0;
    uint64_t start = cli_now_ns(), limit = (uint64_t)(seconds * 1e9);
    while (st == GK_OK && count < cap && cli_now_ns() - start < limit) {
        uint64_t c0 = thread_cpu_ns();
        st = tick_engine_step(&e, &ns[count], err);
        cpu[count] = thread_cpu_ns() - c0;
        edges += (double)e.edges;
        count++;
    }
    double elapsed = (double)(cli_now_ns() - start) * 1e-9;
    if (st == GK_OK && count) {
        qsort(ns, count, sizeof *ns, cmp_u64);
        memset(out, 0, sizeof *out);
        snprintf(out->scenario, sizeof out->scenario, "%s", scenario);
        out->nodes = e.n;
        out->edges = (size_t)(edges / (double)count + 0.5);
        out->threads = threads;
        out->ticks = count;
        plan_kernels(e.plan, gk_model_num_layers(e.model), out->kernel, sizeof out->kernel);
        out->p50_us = (double)ns[count / 2] * 1e-3;
        out->p90_us = (double)ns[(size_t)((double)count * 0.90)] * 1e-3;
        out->p99_us = (double)ns[(size_t)((double)count * 0.99)] * 1e-3;
        out->p999_us = (double)ns[(size_t)((double)count * 0.999)] * 1e-3;
        out->max_us = (double)ns[count - 1] * 1e-3;
        out->ticks_per_s = (double)count / elapsed;
        qsort(cpu, count, sizeof *cpu, cmp_u64);
        out->cpu_p50_us = (double)cpu[count / 2] * 1e-3;
        out->cpu_p99_us = (double)cpu[(size_t)((double)count * 0.99)] * 1e-3;
        out->ns = ns;
        ns = NULL;
    }
    free(ns);
    free(cpu);
    tick_engine_free(&e);
    return st;
}

gk_status tick_bench_update_vs_recompute(size_t n, size_t window, double *update_us,
                                         double *recompute_us, gk_error *err) {
    enum { REPS = 41 };
    gk_corr_options opt = gk_corr_default_options();
    opt.recompute_every = 0;
    gk_corr *c = NULL;
    gk_status st = gk_corr_create(n, window, &opt, &c, err);
    if (st != GK_OK) return st;
    market *m = market_create(n, 10, 7);
    float *r = malloc(n * sizeof *r);
    uint64_t up[REPS], full[REPS];
    for (size_t t = 0; t < window; t++) {
        market_next(m, r);
        gk_corr_push(c, r, NULL);
    }
    for (int k = 0; k < REPS; k++) {
        /* A push defers its O(N^2) update to the next graph build or push:
         * the timed push applies the untimed one's. */
        market_next(m, r);
        gk_corr_push(c, r, NULL);
        market_next(m, r);
        uint64_t t0 = thread_cpu_ns();
        gk_corr_push(c, r, NULL);
        uint64_t t1 = thread_cpu_ns();
        gk_corr_recompute(c);
        uint64_t t2 = thread_cpu_ns();
        up[k] = t1 - t0;
        full[k] = t2 - t1;
    }
    qsort(up, REPS, sizeof *up, cmp_u64);
    qsort(full, REPS, sizeof *full, cmp_u64);
    *update_us = (double)up[REPS / 2] * 1e-3;
    *recompute_us = (double)full[REPS / 2] * 1e-3;
    free(r);
    market_free(m);
    gk_corr_free(c);
    return GK_OK;
}
