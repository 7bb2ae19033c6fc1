/* The CLI on whole models:
 *   graphkern infer --model M --input IN [--output OUT]   (format 2: by name)
 *   graphkern bench --model M --input IN [--runs R] [--cpu C] [--json]
 * infer reads every model input from IN by its name, writes every output to
 * OUT by its name, and compares `y` with y_ref_f64 when IN carries it.
 * bench times any model file (format 1 or 2) on IN: p50/p99/p99.9 with the
 * kernels the selector picks and with the generic path, in one run, and the
 * allocations its timed loop made. */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "safetensors.h"

static double ref_error(const float *y, const double *ref, size_t count) {
    double diff = 0.0, scale = 1e-3;
    for (size_t k = 0; k < count; k++) {
        double d = fabs((double)y[k] - ref[k]);
        diff = d > diff || isnan(d) ? d : diff;
        scale = fabs(ref[k]) > scale ? fabs(ref[k]) : scale;
    }
    return diff / scale;
}

static size_t numel(const gk_tensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

static void print_tensor(const gk_tensor *t) {
    printf("%s [", t->name);
    for (int d = 0; d < t->ndim; d++) printf(d ? ", %lld" : "%lld", (long long)t->shape[d]);
    printf("]:");
    const float *v = t->data;
    size_t n = numel(t), shown = n < 8 ? n : 8;
    for (size_t k = 0; k < shown; k++) printf(" %.6g", (double)v[k]);
    printf(n > shown ? " ... (%zu values)\n" : "\n", n);
}

static int write_outputs(const char *path, const gk_tensor *out, int count) {
    gk_st_out t[64];
    for (int o = 0; o < count; o++) {
        t[o] = (gk_st_out){out[o].name, GK_DT_F32, out[o].ndim, {0}, out[o].data};
        for (int d = 0; d < out[o].ndim; d++) t[o].shape[d] = out[o].shape[d];
    }
    gk_error err;
    if (gk_st_write_file(path, t, (size_t)count, NULL, &err) != GK_OK)
        return cli_error(path, &err);
    printf("wrote %d output(s) to %s\n", count, path);
    return 0;
}

int cmd_infer_named(const char *model_path, gk_model *model, const char *input_path,
                    const char *output_path, int repeat, const gk_plan_options *opt) {
    cli_named in;
    gk_error err;
    if (cli_read_named(input_path, model, &in, &err)) return cli_error(input_path, &err);
    gk_plan *plan = NULL;
    gk_tensor out[64];
    int rc = 1, nout = 0;
    if (gk_plan_create(model, in.nodes, in.max_edges, opt, &plan, &err) != GK_OK) {
        rc = cli_error(model_path, &err);
        goto done;
    }
    if ((nout = cli_named_outputs(model, in.nodes, out)) < 0) {
        fputs("graphkern: out of memory\n", stderr);
        goto done;
    }
    uint64_t best = UINT64_MAX;
    for (int k = 0; k < repeat; k++) {
        uint64_t t0 = cli_now_ns();
        if (gk_infer_named(plan, in.inputs, (size_t)in.count, out, (size_t)nout, &err) !=
            GK_OK) {
            rc = cli_error(input_path, &err);
            goto done;
        }
        uint64_t dt = cli_now_ns() - t0;
        best = dt < best ? dt : best;
    }
    for (int o = 0; o < nout; o++) print_tensor(&out[o]);
    printf("%zu nodes, %d inputs, %d output(s) (format 2); %s %.2f us (graphkern bench for "
           "latency)\n", in.nodes, in.count, gk_model_num_outputs(model),
           repeat > 1 ? "fastest of --repeat:" : "one call:", (double)best / 1e3);
    if (in.y_ref && nout && in.y_ref_count == numel(&out[0]))
        printf("max relative error of %s vs y_ref_f64: %.3g\n", out[0].name,
               ref_error(out[0].data, in.y_ref, in.y_ref_count));
    rc = output_path ? write_outputs(output_path, out, nout) : 0;
done:
    for (int o = 0; o < nout; o++) free(out[o].data);
    gk_plan_free(plan);
    cli_free_named(&in);
    return rc;
}

/* ---- bench --model -------------------------------------------------------- */

typedef struct runner {
    gk_plan *plan;
    gk_graph *graph;             /* format 1 */
    const cli_input *v1;
    const cli_named *v2;         /* format 2 */
    gk_tensor out[64];
    int nout;
    float *y;
} runner;

static gk_status run_once(runner *r, gk_error *err) {
    if (r->v2)
        return gk_infer_named(r->plan, r->v2->inputs, (size_t)r->v2->count, r->out,
                              (size_t)r->nout, err);
    return gk_infer(r->plan, r->graph, r->v1->x, r->y, err);
}

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct timing {
    double p50, p99, p999;
    long allocations;
} timing;

static int time_runs(runner *r, long runs, timing *t, gk_error *err) {
    uint64_t *ns = calloc((size_t)runs, sizeof *ns);
    if (!ns) return 1;
    for (long k = 0; k < runs / 10 + 10; k++)  /* warm-up */
        if (run_once(r, err) != GK_OK) return free(ns), 1;
    long a0 = cli_allocations();
    for (long k = 0; k < runs; k++) {
        uint64_t t0 = cli_now_ns();
        if (run_once(r, err) != GK_OK) return free(ns), 1;
        ns[k] = cli_now_ns() - t0;
    }
    t->allocations = a0 < 0 ? -1 : cli_allocations() - a0;
    qsort(ns, (size_t)runs, sizeof *ns, compare_u64);
    t->p50 = (double)ns[runs / 2] / 1e3;
    t->p99 = (double)ns[(size_t)((double)runs * 0.99)] / 1e3;
    t->p999 = (double)ns[(size_t)((double)runs * 0.999)] / 1e3;
    free(ns);
    return 0;
}

static int make_runner(gk_model *m, const cli_input *v1, const cli_named *v2, gk_isa isa,
                       runner *r, gk_error *err) {
    memset(r, 0, sizeof *r);
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = isa;
    size_t n = v2 ? v2->nodes : v1->num_nodes, e = v2 ? v2->max_edges : v1->num_edges;
    if (gk_plan_create(m, n, e, &opt, &r->plan, err) != GK_OK) return 1;
    r->v1 = v1;
    r->v2 = v2;
    if (v2) return (r->nout = cli_named_outputs(m, n, r->out)) < 0;
    r->y = calloc(n * (size_t)gk_model_out_features(m), sizeof *r->y);
    return !r->y || gk_graph_from_coo(m, n, e, v1->edge_index, v1->index_type,
                                      v1->edge_attr, &r->graph, err) != GK_OK;
}

static void free_runner(runner *r) {
    for (int o = 0; o < r->nout; o++) free(r->out[o].data);
    free(r->y);
    gk_graph_free(r->graph);
    gk_plan_free(r->plan);
}

static void print_timing(const char *what, const timing *t, int json, int last) {
    if (json) {
        printf("    \"%s\": {\"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, "
               "\"allocations\": %ld}%s\n", what, t->p50, t->p99, t->p999, t->allocations,
               last ? "" : ",");
        return;
    }
    printf("  %-12s p50 %9.2f us   p99 %9.2f us   p99.9 %9.2f us   allocations %ld\n",
           what, t->p50, t->p99, t->p999, t->allocations);
}

int cmd_bench_model(int argc, char **argv) {
    const char *model_path = cli_option(argc, argv, "--model");
    const char *input_path = cli_option(argc, argv, "--input");
    const char *v = cli_option(argc, argv, "--runs");
    long runs = v ? atol(v) : 2000;
    int json = cli_flag(argc, argv, "--json");
    if (!input_path || runs < 10) {
        fputs("usage: graphkern bench --model M --input IN [--runs R >= 10] [--cpu C] "
              "[--json]\n", stderr);
        return 2;
    }
    if ((v = cli_option(argc, argv, "--cpu"))) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(atoi(v), &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) perror("graphkern: bench: --cpu");
    }
    gk_error err;
    gk_model *m = NULL;
    if (gk_model_load_file(model_path, &m, &err) != GK_OK) return cli_error(model_path, &err);
    cli_input v1;
    cli_named v2;
    int named = gk_model_version(m) == 2, rc = 1;
    memset(&v1, 0, sizeof v1);
    memset(&v2, 0, sizeof v2);
    if (named ? cli_read_named(input_path, m, &v2, &err) : cli_read_input(input_path, &v1, &err)) {
        gk_model_free(m);
        return cli_error(input_path, &err);
    }
    runner best, generic;
    timing tb, tg;
    memset(&best, 0, sizeof best);
    memset(&generic, 0, sizeof generic);
    if (make_runner(m, &v1, named ? &v2 : NULL, GK_ISA_AUTO, &best, &err) ||
        make_runner(m, &v1, named ? &v2 : NULL, GK_ISA_GENERIC, &generic, &err) ||
        time_runs(&best, runs, &tb, &err) || time_runs(&generic, runs, &tg, &err)) {
        rc = cli_error(input_path, &err);
        goto done;
    }
    if (json) {
        printf("{\n  \"model\": \"%s\", \"format\": %d, \"nodes\": %zu, \"runs\": %ld,\n"
               "  \"timings\": {\n", model_path, gk_model_version(m),
               named ? v2.nodes : v1.num_nodes, runs);
        print_timing("specialized", &tb, 1, 0);
        print_timing("generic", &tg, 1, 1);
        printf("  }\n}\n");
    } else {
        printf("model %s (format %d), %zu nodes, %ld timed calls each, 1 thread\n",
               model_path, gk_model_version(m), named ? v2.nodes : v1.num_nodes, runs);
        print_timing("specialized", &tb, 0, 0);
        print_timing("generic", &tg, 0, 1);
        printf("  generic / specialized p50: %.2fx (specialized = the kernels the "
               "selector picks; allocations -1: not counted under a sanitizer)\n",
               tg.p50 / tb.p50);
    }
    rc = 0;
done:
    free_runner(&best);
    free_runner(&generic);
    if (named) cli_free_named(&v2);
    else cli_free_input(&v1);
    gk_model_free(m);
    return rc;
}
