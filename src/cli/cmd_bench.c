/* graphkern bench: the scenarios of docs/performance.md for the specialized path
 * (the plan's automatic kernel choice) and the generic path (GK_ISA_GENERIC)
 * in one run, and the trading tick loop (tick_n100, tick_n1000:
 * src/cli/tick.h). The harness itself lives in bench/ (bench.h). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_gatv2.h"
#include "cli.h"
#include "tick.h"

#ifndef GK_FIXTURES_DIR
#define GK_FIXTURES_DIR "tests/fixtures"
#endif

static const char usage_text[] =
    "usage: graphkern bench [options]\n"
    "       graphkern bench --model M --input IN [--runs R] [--cpu C] [--json]\n"
    "         any model file (format 1 or 2) on IN: p50/p99/p99.9 with the selected\n"
    "         kernels and with the generic path, and the timed loop's allocations\n"
    "  --json               one JSON object per configuration (docs/performance.md)\n"
    "  --scenario A[,B..]   scenarios to run (default: all; --list names them)\n"
    "  --path P             specialized | generic | both (default both)\n"
    "  --isa I              ISA asked of the specialized path: auto (default),\n"
    "                       avx512, avx2, neon, scalar\n"
    "  --threads T[,T..]    thread counts (default 1)\n"
    "  --runs K             measured runs per configuration (default: the\n"
    "                       scenario's, 10000; 1000 for dense1000)\n"
    "  --warmup K           untimed runs first (default runs/10, at most 500\n"
    "                       and 2 s)\n"
    "  --quick              few runs (10 to 200), to check the output only\n"
    "  --max-seconds S      stop a configuration's timed loop after S seconds\n"
    "                       of inference (default 20; 0: no limit); the runs\n"
    "                       done are reported\n"
    "                       tick_n100, tick_n1000 (push returns + rebuild the\n"
    "                       top-16 correlation graph + infer, window 256) run\n"
    "                       for a time, not --runs: 10 s per configuration\n"
    "                       (0.25 s with --quick), at most --max-seconds\n"
    "  --cpu N              pin to CPU N (workers to N+1, ...)\n"
    "  --plot out.svg       write the latency distributions as an SVG\n"
    "  --no-hist            no text histograms\n"
    "  --no-peak            skip the FMA peak loop (%peak reads 0)\n"
    "  --fifo P             run at real-time priority P (SCHED_FIFO, 1..99; needs\n"
    "                       CAP_SYS_NICE): other processes stop preempting runs\n"
    "  --noise-floor        after each configuration, time core-only work of\n"
    "                       the same p50 as often and the same way: the\n"
    "                       machine's own tail (interrupts, hypervisor, other\n"
    "                       processes), with local timer interrupts/s\n"
    "  --fixtures DIR       where the reference models are\n"
    "  --graph-build        also time the graph build per scenario: gk_graph_set_coo\n"
    "                       alone and before gk_infer (int64 edge_index, as torch\n"
    "                       gives it), and for dense scenarios gk_graph_set_complete\n"
    "                       alone and before gk_infer (paths set_coo, set_coo+infer,\n"
    "                       set_complete, complete+infer)\n"
    "  --gatv2              also time a GATv2Conv model of the reference model's\n"
    "                       shapes on each scenario (rows <scenario>_gatv2)\n"
    "  --list               list the scenarios\n";

typedef struct bench_options {
    int json, quick, no_hist, no_peak, cpu, progress, graph_build, gatv2, noise_floor;
    int fifo;                    /* SCHED_FIFO priority, 0: the default policy */
    long runs, warmup;
    double max_seconds;
    int threads[8], num_threads;
    int paths;              /* bit 0: specialized, bit 1: generic */
    gk_isa isa;
    const char *plot, *fixtures;
    const bench_scenario *scenarios[32];
    int num_scenarios;
} bench_options;

static int parse_list(const char *arg, int *out, int max) {
    int n = 0;
    for (const char *p = arg; *p && n < max;) {
        out[n++] = atoi(p);
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return n;
}

static int parse_scenarios(const char *arg, bench_options *o) {
    char name[64];
    for (const char *p = arg; *p;) {
        size_t len = strcspn(p, ",");
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        const bench_scenario *s = bench_find_scenario(name);
        if (!s || o->num_scenarios == 32) {
            fprintf(stderr, "graphkern: bench: unknown scenario '%s' (see --list)\n", name);
            return 1;
        }
        o->scenarios[o->num_scenarios++] = s;
        p += len + (p[len] == ',');
    }
    return 0;
}

static int parse_options(int argc, char **argv, bench_options *o) {
    memset(o, 0, sizeof *o);
    o->json = cli_flag(argc, argv, "--json");
    o->quick = cli_flag(argc, argv, "--quick");
    o->no_hist = cli_flag(argc, argv, "--no-hist");
    o->no_peak = cli_flag(argc, argv, "--no-peak");
    o->noise_floor = cli_flag(argc, argv, "--noise-floor");
    o->graph_build = cli_flag(argc, argv, "--graph-build");
    o->gatv2 = cli_flag(argc, argv, "--gatv2");
    o->progress = isatty(2);
    const char *v;
    o->cpu = (v = cli_option(argc, argv, "--cpu")) ? atoi(v) : -1;
    o->fifo = (v = cli_option(argc, argv, "--fifo")) ? atoi(v) : 0;
    o->runs = (v = cli_option(argc, argv, "--runs")) ? atol(v) : 0;
    o->warmup = (v = cli_option(argc, argv, "--warmup")) ? atol(v) : -1;
    o->max_seconds = (v = cli_option(argc, argv, "--max-seconds")) ? atof(v) : 20;
    o->num_threads = parse_list((v = cli_option(argc, argv, "--threads")) ? v : "1",
                                o->threads, 8);
    o->plot = cli_option(argc, argv, "--plot");
    o->fixtures = cli_option(argc, argv, "--fixtures");
    if (!o->fixtures) o->fixtures = getenv("GRAPHKERN_FIXTURES");
    if (!o->fixtures) o->fixtures = GK_FIXTURES_DIR;
    v = cli_option(argc, argv, "--path");
    o->paths = !v || !strcmp(v, "both") ? 3 : !strcmp(v, "specialized") ? 1
               : !strcmp(v, "generic") ? 2 : 0;
    v = cli_option(argc, argv, "--isa");
    /* "generic" is --path's, not an ISA here */
    gk_error isa_err;
    if (gk_isa_from_name(v ? v : "auto", &o->isa, &isa_err) != GK_OK ||
        o->isa == GK_ISA_GENERIC)
        o->isa = (gk_isa)-1;
    if (!o->paths || (int)o->isa < 0 || o->runs < 0 || o->num_threads < 1 ||
        o->max_seconds < 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    for (int k = 0; k < o->num_threads; k++)
        if (o->threads[k] < 1) return fputs(usage_text, stderr), 2;
    if ((v = cli_option(argc, argv, "--scenario"))) return parse_scenarios(v, o);
    for (int k = 0; k < bench_num_scenarios; k++) o->scenarios[o->num_scenarios++] = &bench_scenarios[k];
    return 0;
}

static long runs_for(const bench_scenario *s, const bench_options *o) {
    if (o->runs) return o->runs;
    if (o->quick) return s->quick_runs;
    return s->default_runs;
}

/* Kernel names per layer ("a+b", or one name if all layers agree) and the
 * ISA from the names' "__isa" suffix. */
static void isa_of_kernels(bench_result *r) {
    snprintf(r->isa, sizeof r->isa, "?");
    for (const char *p = r->kernel; *p;) {
        size_t len = strcspn(p, "+");
        char name[160];
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        const char *sep = strstr(name, "__"), *isa = sep ? sep + 2 : name;
        if (p == r->kernel) snprintf(r->isa, sizeof r->isa, "%.23s", isa);
        else if (strcmp(r->isa, isa)) snprintf(r->isa, sizeof r->isa, "mixed");
        p += len + (p[len] == '+');
    }
}

static void describe_kernels(const gk_plan *plan, int layers, bench_result *r) {
    r->kernel[0] = '\0';
    int same = 1;
    for (int l = 1; l < layers; l++)
        same &= !strcmp(gk_plan_layer_kernel(plan, l), gk_plan_layer_kernel(plan, 0));
    for (int l = 0; l < (same ? 1 : layers); l++) {
        size_t len = strlen(r->kernel);
        snprintf(r->kernel + len, sizeof r->kernel - len, "%s%s", l ? "+" : "",
                 gk_plan_layer_kernel(plan, l));
    }
    isa_of_kernels(r);
}

static void progress(const bench_options *o, const char *what, const bench_result *r,
                     long done, long total) {
    if (!o->progress) return;
    fprintf(stderr, "\r\033[K%s %s %s t%d: %ld/%ld", what, r->scenario->name, r->path,
            r->threads, done, total);
    fflush(stderr);
}

/* Warm up, then time `runs` inferences rotating over the inputs, with the
 * counters read around the timed loop only. */
static int measure(gk_plan *plan, const bench_inputs *in, long runs, long warmup,
                   const bench_options *o, bench_result *r, gk_error *err) {
    r->ns = malloc((size_t)runs * sizeof *r->ns);
    if (!r->ns) return 1;
    /* touched before timing, and not with zeros: GCC turns malloc + memset 0
     * into calloc, which leaves fresh mmap'd pages untouched (they then
     * faulted inside the timed loop, about 2 per 1000 runs) */
    memset(r->ns, 0xff, (size_t)runs * sizeof *r->ns);
    int nv = in->variants;
    uint64_t warm_until = o->warmup < 0 ? cli_now_ns() + 2000000000u : UINT64_MAX;
    long w = 0;
    for (; w < warmup && cli_now_ns() < warm_until; w++)   /* default: <= 2 s */
        if (gk_infer(plan, in->graph[w % nv], in->x[w % nv], in->y, err) != GK_OK) return 1;
    r->warmup = (size_t)w;
    long chunk = o->progress ? (runs + 19) / 20 : runs, done = 0;
    uint64_t budget = (uint64_t)(o->max_seconds * 1e9), elapsed = 0;
    bench_counters c0, c1;
    bench_counters_read(&c0);
    uint64_t wall0 = cli_now_ns();
    while (done < runs && (!budget || elapsed < budget)) {
        long end = done + chunk < runs ? done + chunk : runs;
        for (long k = done; k < end; k++) {
            int v = (int)(k % nv);
            uint64_t t0 = cli_now_ns();
            gk_status st = gk_infer(plan, in->graph[v], in->x[v], in->y, err);
            uint64_t t1 = cli_now_ns();
            r->ns[k] = t1 - t0;
            elapsed += t1 - t0;
            if (st != GK_OK) return 1;
            if (budget && elapsed >= budget) {
                end = k + 1;
                break;
            }
        }
        done = end;
        progress(o, "timing", r, done, runs);
    }
    uint64_t wall = cli_now_ns() - wall0;
    bench_counters_read(&c1);
    bench_stats_compute(r->ns, (size_t)done, &r->stats);
    r->graphs_per_s = (double)done / ((double)wall * 1e-9);
    r->page_faults = (c1.minor_faults - c0.minor_faults) + (c1.major_faults - c0.major_faults);
    r->context_switches = (long)(c1.voluntary_cs - c0.voluntary_cs) +
                          (c1.involuntary_cs - c0.involuntary_cs);
    r->heap_delta_bytes = c1.heap_bytes - c0.heap_bytes;
    r->heap_chunks_delta = c1.heap_chunks - c0.heap_chunks;
    return 0;
}

static int run_config(const gk_model *m, const bench_inputs *in, int generic, int threads,
                      const bench_options *o, const bench_peak *peak, bench_result *r) {
    memset(r, 0, sizeof *r);
    r->scenario = in->scenario;
    r->nodes = in->nodes;
    r->edges = in->edges;
    r->path = generic ? "generic" : "specialized";
    r->threads = threads;
    r->cpu = o->cpu;
    r->rss_reset = bench_reset_peak_rss();
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = generic ? GK_ISA_GENERIC : o->isa;
    opt.threads = threads;
    opt.pin_first_cpu = o->cpu;
    gk_plan *plan = NULL;
    gk_error err;
    if (gk_plan_create(m, in->nodes, in->edges, &opt, &plan, &err) != GK_OK)
        return cli_error("bench: plan", &err);
    describe_kernels(plan, gk_model_num_layers(m), r);
    long runs = runs_for(in->scenario, o);
    long warmup = o->warmup >= 0 ? o->warmup : runs / 10 > 500 ? 500 : runs / 10;
    int rc = measure(plan, in, runs, warmup, o, r, &err);
    gk_plan_free(plan);
    if (rc) return err.status ? cli_error("bench: infer", &err) : 1;
    r->peak_rss_mb = bench_peak_rss_mb();
    r->flops = bench_flops(m, in->graph[0]);
    /* The median, not the mean: on a shared machine the mean carries other
     * processes' time slices (see the p99 column). */
    r->gflops = r->stats.p50 > 0 ? r->flops / (r->stats.p50 * 1e3) : 0;
    r->pct_of_peak = peak->best_gflops > 0
                         ? 100.0 * r->gflops / (peak->best_gflops * threads) : 0;
    return 0;
}

/* ---- graph build rows ------------------------------------------------------ */

/* What one timed run of a graph-build configuration does. */
typedef enum build_what { SET_COO, SET_COO_INFER, SET_COMPLETE, COMPLETE_INFER } build_what;
static const char *const build_path[] = {"set_coo", "set_coo+infer", "set_complete",
                                         "complete+infer"};

static gk_status build_run(build_what what, gk_graph *g, gk_plan *plan,
                           const bench_inputs *in, int v, gk_error *err) {
    gk_status st = what <= SET_COO_INFER
                       ? gk_graph_set_coo(g, in->nodes, in->edges, in->edge_index[v],
                                          GK_INDEX_I64, in->edge_attr[v], err)
                       : gk_graph_set_complete(g, in->nodes, 0, in->edge_attr[v], err);
    if (st == GK_OK && (what == SET_COO_INFER || what == COMPLETE_INFER))
        st = gk_infer(plan, g, in->x[v], in->y, err);
    return st;
}

/* One graph, rebuilt every run from the rotating inputs' COO (or declared
 * complete), as a caller with a fresh edge_index per call does. */
static int run_build_config(const gk_model *m, const bench_inputs *in, build_what what,
                            const bench_options *o, const bench_peak *peak, bench_result *r) {
    memset(r, 0, sizeof *r);
    r->scenario = in->scenario;
    r->nodes = in->nodes;
    r->edges = in->edges;
    r->path = build_path[what];
    r->threads = 1;
    r->cpu = o->cpu;
    r->rss_reset = bench_reset_peak_rss();
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = o->isa;
    opt.pin_first_cpu = o->cpu;
    gk_plan *plan = NULL;
    gk_graph *g = NULL;
    gk_error err;
    if (gk_plan_create(m, in->nodes, in->edges, &opt, &plan, &err) != GK_OK ||
        gk_graph_create(m, in->nodes, in->edges, &g, &err) != GK_OK) {
        gk_plan_free(plan);
        return cli_error("bench: graph build", &err);
    }
    describe_kernels(plan, gk_model_num_layers(m), r);
    if (what == SET_COO || what == SET_COMPLETE) snprintf(r->kernel, sizeof r->kernel, "-");
    long runs = runs_for(in->scenario, o);
    long warmup = o->warmup >= 0 ? o->warmup : runs / 10 > 500 ? 500 : runs / 10;
    int rc = (r->ns = malloc((size_t)runs * sizeof *r->ns)) == NULL;
    if (!rc) memset(r->ns, 0xff, (size_t)runs * sizeof *r->ns);  /* touched now */
    for (long k = 0; !rc && k < warmup; k++)
        rc = build_run(what, g, plan, in, (int)(k % in->variants), &err) != GK_OK;
    r->warmup = (size_t)warmup;
    uint64_t wall0 = cli_now_ns();
    long done = 0;
    for (; !rc && done < runs; done++) {
        uint64_t t0 = cli_now_ns();
        rc = build_run(what, g, plan, in, (int)(done % in->variants), &err) != GK_OK;
        r->ns[done] = cli_now_ns() - t0;
        progress(o, "timing", r, done + 1, runs);
    }
    uint64_t wall = cli_now_ns() - wall0;
    if (!rc) {
        bench_stats_compute(r->ns, (size_t)done, &r->stats);
        r->graphs_per_s = (double)done / ((double)wall * 1e-9);
        r->peak_rss_mb = bench_peak_rss_mb();
        if (what == SET_COO_INFER || what == COMPLETE_INFER) {
            r->flops = bench_flops(m, in->graph[0]);
            r->gflops = r->stats.p50 > 0 ? r->flops / (r->stats.p50 * 1e3) : 0;
            r->pct_of_peak = peak->best_gflops > 0 ? 100.0 * r->gflops / peak->best_gflops : 0;
        }
    }
    gk_graph_free(g);
    gk_plan_free(plan);
    return rc ? (err.status ? cli_error("bench: graph build", &err) : 1) : 0;
}

/* ---- the tick scenarios (src/cli/tick.h) -------------------------------- */

static double tick_seconds(const bench_options *o) {
    double s = o->quick ? 0.25 : 10;
    return o->max_seconds > 0 && o->max_seconds < s ? o->max_seconds : s;
}

static int run_tick_config(const bench_scenario *s, int generic, int threads,
                           const bench_options *o, bench_result *r) {
    memset(r, 0, sizeof *r);
    r->scenario = s;
    r->path = generic ? "generic" : "specialized";
    r->threads = threads;
    r->cpu = o->cpu;
    r->rss_reset = bench_reset_peak_rss();
    if (o->progress) fprintf(stderr, "\r\033[Kticking %s %s t%d", s->name, r->path, threads);
    tick_bench_result t;
    gk_error err;
    if (tick_bench_run(s->name, generic ? GK_ISA_GENERIC : o->isa, threads, o->cpu,
                       tick_seconds(o), &t, &err) != GK_OK)
        return cli_error(s->name, &err);
    r->peak_rss_mb = bench_peak_rss_mb();
    r->nodes = t.nodes;
    r->edges = t.edges;   /* mean input edges per tick */
    snprintf(r->kernel, sizeof r->kernel, "%s", t.kernel);
    isa_of_kernels(r);
    r->ns = t.ns;
    bench_stats_compute(r->ns, (size_t)t.ticks, &r->stats);  /* nearest rank */
    r->graphs_per_s = t.ticks_per_s;
    r->cpu_p50_us = t.cpu_p50_us;
    r->cpu_p99_us = t.cpu_p99_us;
    return 0;   /* gflops, pct_of_peak: 0 (not counted) */
}

static int run_tick_scenario(const bench_scenario *s, const bench_options *o,
                             const bench_peak *peak, bench_result *out, int *count) {
    int first = *count, rc = 0;
    for (int t = 0; t < o->num_threads && !rc; t++)
        for (int g = 0; g < 2 && !rc; g++) {
            if (!(o->paths & (1 << g))) continue;
            bench_result *r = &out[(*count)++];
            rc = run_tick_config(s, g, o->threads[t], o, r);
            if (o->progress) fputs("\r\033[K", stderr);
            if (rc) break;
            if (o->json) bench_print_json(stdout, r, peak);
            else bench_print_row(stdout, r);
            fflush(stdout);
        }
    if (!rc && !o->json) {
        printf("  %s: one tick = push returns + rebuild the top-%d correlation graph "
               "(window 256) + infer; E = mean input edges per tick; graphs/s = ticks/s\n",
               s->name, s->k);
        for (int k = first; k < *count; k++)
            printf("  %s %s t%d: %zu ticks, CPU time of the calling thread per tick: "
                   "p50 %.2f us, p99 %.2f us\n", s->name, out[k].path, out[k].threads,
                   out[k].stats.runs, out[k].cpu_p50_us, out[k].cpu_p99_us);
        fputc('\n', stdout);
        if (!o->no_hist) bench_print_hist(stdout, out + first, *count - first);
    }
    return rc;
}

/* "incremental update vs full recompute at N=1000, T=256": median CPU time of
 * one gk_corr_push against one gk_corr_recompute (dsyrk). */
static int run_corr_update(const bench_options *o) {
    enum { N = 1000, T = 256 };
    double update_us = 0, recompute_us = 0;
    gk_error err;
    if (o->progress) fprintf(stderr, "\r\033[Kcorrelation update vs recompute");
    gk_status st = tick_bench_update_vs_recompute(N, T, &update_us, &recompute_us, &err);
    if (o->progress) fputs("\r\033[K", stderr);
    if (st != GK_OK) return cli_error("corr_update_n1000", &err);
    double ratio = update_us > 0 ? recompute_us / update_us : 0;
    if (o->json)
        printf("{\"scenario\":\"corr_update_n1000\",\"nodes\":%d,\"window\":%d,"
               "\"update_us\":%.3f,\"recompute_us\":%.3f,\"recompute_over_update\":%.2f,"
               "\"timing\":\"median CPU time of the calling thread, 41 runs\","
               "\"cpu\":%d}\n", N, T, update_us, recompute_us, ratio, o->cpu);
    else
        printf("incremental update vs full recompute at N=%d, T=%d: update %.1f us, "
               "recompute %.1f us (%.1fx; median CPU time of 41)\n\n", N, T, update_us,
               recompute_us, ratio);
    fflush(stdout);
    return 0;
}

static int pin(int cpu) {
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == 0) return 0;
    perror("graphkern: bench: --cpu");
    return 1;
}

/* --fifo P: real-time priority P (SCHED_FIFO) for this process and the
 * plan's workers it starts later (they inherit it): other processes' time
 * slices no longer land inside a timed run. Needs CAP_SYS_NICE; the kernel
 * still keeps 5 % of each second for others (sched_rt_runtime_us). */
static int set_fifo(int priority) {
    if (priority <= 0) return 0;
    struct sched_param sp = {.sched_priority = priority};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) == 0) return 0;
    perror("graphkern: bench: --fifo");
    return 1;
}

static int load_model(const bench_options *o, int edge, gk_model **m) {
    if (*m) return 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", o->fixtures,
             edge ? "ref_topk16_n1000_edge1.model.safetensors"
                  : "ref_dense_n100.model.safetensors");
    gk_error err;
    return gk_model_load_file(path, m, &err) != GK_OK ? cli_error(path, &err) : 0;
}

/* --noise-floor: the machine's tail at this configuration's p50 and runs. */
static void print_noise_floor(const bench_result *r) {
    bench_noise nf;
    const bench_stats *s = &r->stats;
    if (bench_noise_floor(s->p50, s->runs, &nf)) return;
    printf("  %s %s t%d: p99.9/p50 = %.2f, p99/p50 = %.2f; noise floor (core-only work, "
           "same p50 and runs, CPU %d): p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.1f us, "
           "p99.9/p50 = %.2f, p99/p50 = %.2f, %.0f timer interrupts/s, %ld context "
           "switches\n", r->scenario->name, r->path, r->threads, s->p999 / s->p50,
           s->p99 / s->p50, nf.cpu, nf.stats.p50, nf.stats.p99, nf.stats.p999, nf.stats.max,
           nf.stats.p999 / nf.stats.p50, nf.stats.p99 / nf.stats.p50, nf.timer_per_s,
           nf.context_switches);
}

static int run_scenario(const bench_scenario *s, gk_model *m, const bench_options *o,
                        const bench_peak *peak, bench_result *out, int *count) {
    bench_inputs in;
    gk_error err;
    if (o->progress) fprintf(stderr, "\r\033[Kbuilding inputs for %s", s->name);
    if (bench_build_inputs(s, m, &in, &err) != GK_OK) return cli_error(s->name, &err);
    int first = *count, rc = 0;
    for (int t = 0; t < o->num_threads && !rc; t++)
        for (int g = 0; g < 2 && !rc; g++) {
            if (!(o->paths & (1 << g))) continue;
            bench_result *r = &out[(*count)++];
            rc = run_config(m, &in, g, o->threads[t], o, peak, r);
            if (o->progress) fputs("\r\033[K", stderr);
            if (rc) break;
            if (o->json) bench_print_json(stdout, r, peak);
            else bench_print_row(stdout, r);
            if (o->noise_floor && !o->json) print_noise_floor(r);
            fflush(stdout);
        }
    for (int w = SET_COO; o->graph_build && w <= COMPLETE_INFER && !rc; w++) {
        if (w >= SET_COMPLETE && s->kind != BENCH_DENSE) continue;
        bench_result *r = &out[(*count)++];
        rc = run_build_config(m, &in, (build_what)w, o, peak, r);
        if (o->progress) fputs("\r\033[K", stderr);
        if (rc) break;
        if (o->json) bench_print_json(stdout, r, peak);
        else bench_print_row(stdout, r);
        fflush(stdout);
    }
    if (!rc && !o->json && !o->no_hist) bench_print_hist(stdout, out + first, *count - first);
    bench_free_inputs(&in);
    return rc;
}

/* --gatv2: scenario s again on a GATv2Conv model of m's shapes, its rows
 * named <scenario>_gatv2 (the copy v2 outlives the results that point at it). */
static int run_gatv2(const bench_scenario *s, const gk_model *m, bench_scenario *v2,
                     const bench_options *o, const bench_peak *peak, bench_result *out,
                     int *count) {
    gk_model *g2 = NULL;
    gk_error err;
    if (bench_gatv2_model(m, &g2, &err) != GK_OK) return cli_error("bench --gatv2", &err);
    *v2 = *s;
    snprintf(v2->name, sizeof v2->name, "%.40s_gatv2", s->name);
    int rc = run_scenario(v2, g2, o, peak, out, count);
    gk_model_free(g2);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    if (cli_flag(argc, argv, "-h") || cli_flag(argc, argv, "--help"))
        return fputs(usage_text, stdout), 0;
    if (cli_option(argc, argv, "--model")) return cmd_bench_model(argc, argv);
    if (cli_flag(argc, argv, "--list")) {
        for (int k = 0; k < bench_num_scenarios; k++)
            printf("%s\n", bench_scenarios[k].name);
        return 0;
    }
    bench_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc || (rc = pin(o.cpu)) || (rc = set_fifo(o.fifo))) return rc;
    bench_peak peak = {.best_isa = "none"};
    if (!o.no_peak) bench_measure_peak(&peak);
    if (!o.json) bench_print_header(stdout, &peak, o.cpu);
    gk_model *models[2] = {NULL, NULL};
    int capacity = o.num_scenarios * (o.num_threads * 2 + 4) * (o.gatv2 ? 2 : 1), count = 0;
    bench_scenario v2_scenarios[32];
    bench_result *results = calloc((size_t)capacity, sizeof *results);
    if (!results) return 1;
    int ticks_left = 0;
    for (int k = 0; k < o.num_scenarios; k++) ticks_left += o.scenarios[k]->kind == BENCH_TICK;
    for (int k = 0; k < o.num_scenarios && !rc; k++) {
        if (o.scenarios[k]->kind == BENCH_TICK) {
            rc = run_tick_scenario(o.scenarios[k], &o, &peak, results, &count);
            if (!rc && --ticks_left == 0) rc = run_corr_update(&o);
            continue;
        }
        int edge = o.scenarios[k]->edge_dim > 0;
        rc = load_model(&o, edge, &models[edge]);
        if (!rc) rc = run_scenario(o.scenarios[k], models[edge], &o, &peak, results, &count);
        if (!rc && o.gatv2)
            rc = run_gatv2(o.scenarios[k], models[edge], &v2_scenarios[k], &o, &peak, results,
                           &count);
    }
    if (!rc && o.plot) {
        if (bench_write_svg(o.plot, results, count)) {
            perror(o.plot);
            rc = 1;
        } else if (!o.json) {
            printf("wrote %s\n", o.plot);
        }
    }
    for (int k = 0; k < count; k++) free(results[k].ns);
    free(results);
    gk_model_free(models[0]);
    gk_model_free(models[1]);
    return rc;
}
