/* graphkern demo: the trading loop on a built-in market (or a returns CSV)
 * with the bundled model. Per tick: push returns -> rebuild the correlation
 * graph -> infer; a line every second with that second's ticks/s and
 * percentiles (whole tick and per stage: window update, graph rebuild,
 * inference), then the run's latency histogram, the stages over the whole
 * run and the top-5 assets by score. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tick.h"

/* Latencies in 1/16-octave bins from 64 ns: about 4% resolution. */
enum { BINS_PER_OCTAVE = 16, OCTAVES = 30, BINS = BINS_PER_OCTAVE * OCTAVES };

typedef struct histogram {
    uint64_t count[BINS];
    uint64_t total;
} histogram;

static int bin_of(uint64_t ns) {
    double b = log2((double)(ns > 64 ? ns : 64) / 64.0) * BINS_PER_OCTAVE;
    return b >= BINS - 1 ? BINS - 1 : (int)b;
}

static double bin_us(int b) {  /* geometric middle of bin b, in us */
    return 64.0 * exp2(((double)b + 0.5) / BINS_PER_OCTAVE) * 1e-3;
}

static double percentile(const histogram *h, double q) {
    uint64_t want = (uint64_t)ceil(q * (double)h->total), seen = 0;
    for (int b = 0; b < BINS; b++)
        if ((seen += h->count[b]) >= want && want) return bin_us(b);
    return 0.0;
}

static void add(histogram *h, uint64_t ns) {
    h->count[bin_of(ns)]++;
    h->total++;
}

static const char *const stage_names[TICK_STAGES] = {"window", "graph", "infer"};

/* "window p50/p99 a/b us, graph ..., infer ..." for hist[1..]. */
static void print_stages(const histogram *stage) {
    for (int s = 0; s < TICK_STAGES; s++)
        printf("%s%s %.1f/%.1f", s ? ", " : "", stage_names[s], percentile(&stage[s], 0.5),
               percentile(&stage[s], 0.99));
    printf(" us (p50/p99)");
}

static void print_histogram(const histogram *h) {
    uint64_t octave[OCTAVES] = {0}, peak = 1;
    int lo = OCTAVES, hi = -1;
    for (int b = 0; b < BINS; b++) octave[b / BINS_PER_OCTAVE] += h->count[b];
    for (int o = 0; o < OCTAVES; o++) {
        if (!octave[o]) continue;
        lo = o < lo ? o : lo;
        hi = o;
        peak = octave[o] > peak ? octave[o] : peak;
    }
    printf("latency per tick (push + features + rebuild + infer), %llu ticks:\n",
           (unsigned long long)h->total);
    for (int o = lo; o <= hi; o++) {
        double from = 64.0 * exp2(o) * 1e-3, to = 2 * from;
        int bar = (int)((double)octave[o] * 50.0 / (double)peak + 0.5);
        printf("  %8.2f - %8.2f us %9llu %6.2f%% |", from, to,
               (unsigned long long)octave[o], 100.0 * (double)octave[o] / (double)h->total);
        for (int k = 0; k < bar; k++) putchar('#');
        putchar('\n');
    }
    printf("  p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us\n", percentile(h, 0.5),
           percentile(h, 0.9), percentile(h, 0.99), percentile(h, 0.999));
}

static void print_top5(const tick_engine *e) {
    size_t best[5];
    int have = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (!isfinite(e->y[i])) continue;
        if (have == 5 && e->y[best[4]] >= e->y[i]) continue;
        int pos = have < 5 ? have++ : 4;
        while (pos > 0 && e->y[best[pos - 1]] < e->y[i]) {
            best[pos] = best[pos - 1];
            pos--;
        }
        best[pos] = i;
    }
    printf("top-5 assets by output score (last tick):\n");
    for (int k = 0; k < have; k++) {
        size_t i = best[k];
        const char *name = market_name(e->market, i);
        int sector = market_sector(e->market, i);
        printf("  %d. asset %4zu", k + 1, i);
        if (name) printf(" %-10s", name);
        if (sector >= 0) printf(" (sector %d)", sector);
        printf("  score %+.5f  %s\n", (double)e->y[i],
               gk_corr_valid(e->corr, i) ? "" : "[no valid correlations: halted or flat]");
    }
}

static const char usage_text[] =
    "usage: graphkern demo [--nodes N] [--ticks K] [--seconds S] [--window T]\n"
    "                      [--topk k] [--threshold tau] [--symmetric 0|1]\n"
    "                      [--threads T] [--recompute-every K] [--returns file.csv]\n";

static int usage(void) {
    fputs(usage_text, stderr);
    return 2;
}

static int parse_options(int argc, char **argv, tick_config *cfg, double *seconds,
                         unsigned long long *ticks) {
    const char *v;
    for (int k = 1; k < argc; k += 2) {
        if (strncmp(argv[k], "--", 2) != 0 || k + 1 >= argc) return usage();
        static const char *const known[] = {"--nodes", "--ticks", "--seconds", "--window",
                                            "--topk", "--threshold", "--symmetric",
                                            "--threads", "--recompute-every", "--returns"};
        int ok = 0;
        for (size_t q = 0; q < sizeof known / sizeof *known; q++) ok |= !strcmp(argv[k], known[q]);
        if (!ok) {
            fprintf(stderr, "graphkern demo: unknown option %s\n", argv[k]);
            return usage();
        }
    }
    if ((v = cli_option(argc, argv, "--nodes"))) cfg->nodes = (size_t)atol(v);
    if ((v = cli_option(argc, argv, "--window"))) cfg->window = (size_t)atol(v);
    if ((v = cli_option(argc, argv, "--topk"))) cfg->rule.top_k = atoi(v);
    if ((v = cli_option(argc, argv, "--threshold"))) cfg->rule.threshold = (float)atof(v);
    if ((v = cli_option(argc, argv, "--symmetric"))) cfg->rule.symmetric = atoi(v);
    if ((v = cli_option(argc, argv, "--threads"))) cfg->threads = atoi(v);
    if ((v = cli_option(argc, argv, "--recompute-every"))) cfg->recompute_every = atoi(v);
    if ((v = cli_option(argc, argv, "--seconds"))) *seconds = atof(v);
    if ((v = cli_option(argc, argv, "--ticks"))) *ticks = strtoull(v, NULL, 10);
    cfg->returns_csv = cli_option(argc, argv, "--returns");
    if (cfg->nodes < 2 || cfg->window < 2 || cfg->rule.top_k < 0 || cfg->threads < 1 ||
        *seconds <= 0 || cfg->recompute_every < 0) {
        fprintf(stderr, "graphkern demo: need --nodes >= 2, --window >= 2, --topk >= 0, "
                        "--threads >= 1, --seconds > 0\n");
        return 2;
    }
    return 0;
}

int cmd_demo(int argc, char **argv) {
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h"))
        return fputs(usage_text, stdout), 0;
    tick_config cfg = tick_default_config();
    double seconds = 10.0;
    unsigned long long max_ticks = 0;  /* 0: until `seconds` have passed */
    int rc = parse_options(argc, argv, &cfg, &seconds, &max_ticks);
    if (rc) return rc;
    tick_engine e;
    gk_error err;
    if (tick_engine_create(&cfg, &e, &err) != GK_OK) return cli_error("demo", &err);

    if (cfg.returns_csv)
        printf("graphkern demo: %zu assets from %s, ", e.n, cfg.returns_csv);
    else
        printf("graphkern demo: %zu assets (built-in 10-sector factor market, seed %llu), ",
               e.n, (unsigned long long)cfg.seed);
    printf("window %zu, rule:", cfg.window);
    if (cfg.rule.threshold > 0) printf(" |rho| >= %.2f", (double)cfg.rule.threshold);
    if (cfg.rule.top_k) printf(" top-%d%s", cfg.rule.top_k, cfg.rule.symmetric ? " symmetric" : "");
    if (!cfg.rule.top_k && cfg.rule.threshold <= 0) printf(" all pairs");
    printf(", %d thread(s), full recompute every %d ticks\n", cfg.threads, cfg.recompute_every);
    printf("model: bundled example GAT, random weights (fixed seed), not trained: "
           "GATConv 32->16x4 ELU -> GATConv 64->1, edge_attr = rho; kernels %s, %s\n",
           gk_plan_layer_kernel(e.plan, 0), gk_plan_layer_kernel(e.plan, 1));
    printf("features: each asset's last 32 returns (%%); filling the window (%zu ticks)...\n",
           cfg.window);
    tick_engine_fill(&e, cfg.window);

    /* [0] the whole tick, [1 + s] stage s; `run` since the start, `second`
     * since the last line (its ticks/s and percentiles cover the same ticks). */
    static histogram run[1 + TICK_STAGES], second[1 + TICK_STAGES];
    uint64_t start = cli_now_ns(), next_report = start + 1000000000ull, last_ticks = 0;
    uint64_t last_report = start;
    printf("each second: ticks/s, edges, tick p50/p99, then per stage p50/p99 "
           "(window = push + features, graph = rebuild, infer), over that second's ticks\n");
    while (max_ticks == 0 || e.ticks < max_ticks) {
        uint64_t ns = 0;
        if (tick_engine_step(&e, &ns, &err) != GK_OK) {
            tick_engine_free(&e);
            return cli_error("demo tick", &err);
        }
        add(&run[0], ns);
        add(&second[0], ns);
        for (int s = 0; s < TICK_STAGES; s++) {
            add(&run[1 + s], e.stage_ns[s]);
            add(&second[1 + s], e.stage_ns[s]);
        }
        uint64_t now = cli_now_ns();
        if (now >= next_report) {
            double dt = (double)(now - last_report) * 1e-9;
            printf("[%5.1fs] %8.0f ticks/s  edges %6zu  tick %.1f/%.1f us; ",
                   (double)(now - start) * 1e-9, (double)(e.ticks - last_ticks) / dt, e.edges,
                   percentile(&second[0], 0.5), percentile(&second[0], 0.99));
            print_stages(second + 1);
            putchar('\n');
            fflush(stdout);
            memset(second, 0, sizeof second);
            last_ticks = e.ticks;
            last_report = now;
            next_report = now + 1000000000ull;
        }
        if (now - start >= (uint64_t)(seconds * 1e9) && max_ticks == 0) break;
    }
    double elapsed = (double)(cli_now_ns() - start) * 1e-9;
    printf("done: %llu ticks in %.2f s = %.0f ticks/s, last graph %zu edges\n",
           (unsigned long long)e.ticks, elapsed, (double)e.ticks / elapsed, e.edges);
    histogram *h = &run[0];
    print_histogram(h);
    printf("  stages over the run: ");
    print_stages(run + 1);
    putchar('\n');
    print_top5(&e);
    tick_engine_free(&e);
    return 0;
}
