/* Worker threads: for every fixture and ISA, gk_infer with 2 and 3 threads
 * gives y (and the attention weights, when kept) bitwise identical to 1 thread and
 * within 1e-5 of PyG; repeated calls with workers that always sleep
 * (spin_us = 0) and that spin; gk_infer_batch over several graphs gives each
 * y bitwise identical to a single-thread gk_infer. Also run under TSan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_case.h"

enum { REPEAT = 8, BATCH = 5 };

typedef struct result {
    float *y;
    float *alpha;
    size_t alpha_floats;
} result;

static int run_plan(const fixture_case *fc, gk_graph *graph, gk_isa isa, int threads,
                    int spin_us, int keep_attention, result *out) {
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = isa;
    opt.threads = threads;
    opt.spin_us = spin_us;
    opt.keep_attention = keep_attention;
    gk_plan *plan = NULL;
    gk_error err;
    if (gk_plan_create(fc->model, fc->num_nodes, fc->num_edges, &opt, &plan, &err) != GK_OK) {
        printf("  plan (%d threads): %s\n", threads, err.message);
        return err.status == GK_EISA ? -1 : 1;
    }
    size_t w = fc->out_width;
    out->y = calloc(fc->num_nodes * w, sizeof(float));
    for (int k = 0; k < REPEAT; k++)
        if (gk_infer(plan, graph, fc->x, out->y, &err) != GK_OK) {
            printf("  infer (%d threads): %s\n", threads, err.message);
            gk_plan_free(plan);
            return 1;
        }
    size_t edges = 0;
    int heads = 0;
    const float *alpha = keep_attention ? gk_plan_attention(plan, 0, &edges, &heads) : NULL;
    out->alpha_floats = alpha ? edges * (size_t)heads : 0;
    out->alpha = malloc(out->alpha_floats * sizeof(float) + 1);
    if (alpha) memcpy(out->alpha, alpha, out->alpha_floats * sizeof(float));
    gk_plan_free(plan);
    return 0;
}

/* 2 and 3 threads against 1 on one fixture and ISA, with the attention
 * weights kept or not (without, complete graphs take the complete-graph
 * kernels, which hand alpha requests to the CSR ones). -1: the ISA does
 * not run here. */
static int check_threads(const fixture_case *fc, gk_graph *graph, const char *name,
                         gk_isa isa, int keep) {
    size_t count = fc->num_nodes * fc->out_width;
    result one, many;
    int rc = run_plan(fc, graph, isa, 1, 200, keep, &one);
    if (rc) return rc;
    int failures = 0;
    static const int configs[][2] = {{2, 200}, {2, 0}, {3, 50}};
    for (size_t c = 0; c < sizeof configs / sizeof *configs; c++) {
        if (run_plan(fc, graph, isa, configs[c][0], configs[c][1], keep, &many)) {
            failures++;
            continue;
        }
        int same_y = !memcmp(one.y, many.y, count * sizeof(float));
        int same_a = one.alpha_floats == many.alpha_floats &&
                     !memcmp(one.alpha, many.alpha, one.alpha_floats * sizeof(float));
        double e = fixture_error(many.y, fc->y_ref, count);
        int ok = same_y && same_a && e <= 1e-5;
        printf("%s %s [isa %d] %d threads (spin %d us) vs 1: y %s, attention %s, "
               "error vs PyG %.2g\n", ok ? "ok  " : "FAIL", name, (int)isa, configs[c][0],
               configs[c][1], same_y ? "bitwise identical" : "DIFFERS",
               !keep ? "not kept" : same_a ? "identical" : "DIFFERS", e);
        failures += !ok;
        free(many.y);
        free(many.alpha);
    }
    free(one.y);
    free(one.alpha);
    return failures;
}

static int check_case(const char *dir, const char *name, gk_isa isa) {
    fixture_case fc;
    if (fixture_load(dir, name, &fc)) return 1;
    gk_graph *graph = NULL;
    gk_error err;
    if (gk_graph_from_coo(fc.model, fc.num_nodes, fc.num_edges, fc.edge_index,
                          GK_INDEX_I64, fc.edge_attr, &graph, &err) != GK_OK) {
        printf("FAIL %s: %s\n", name, err.message);
        fixture_free(&fc);
        return 1;
    }
    int failures = 0;
    for (int keep = 1; keep >= 0; keep--) {
        int rc = check_threads(&fc, graph, name, isa, keep);
        if (rc < 0) break;  /* ISA not on this CPU */
        failures += rc;
    }
    gk_graph_free(graph);
    fixture_free(&fc);
    return failures;
}

/* Batch: BATCH graphs (the fixture's, then with a growing share of its
 * edges dropped) and inputs (scaled x), 1 vs 3 threads vs single gk_infer. */
static int check_batch(const char *dir, const char *name) {
    fixture_case fc;
    if (fixture_load(dir, name, &fc)) return 1;
    size_t n = fc.num_nodes, e = fc.num_edges, f = fc.num_features, w = fc.out_width;
    gk_graph *graphs[BATCH];
    float *xs[BATCH], *ys[BATCH], *ref[BATCH];
    int64_t *ei = malloc(2 * e * sizeof *ei);
    gk_error err;
    int failures = 0;
    for (int b = 0; b < BATCH; b++) {
        size_t keep = e - e * (size_t)b / (2 * BATCH);
        memcpy(ei, fc.edge_index, keep * sizeof *ei);
        memcpy(ei + keep, fc.edge_index + e, keep * sizeof *ei);
        if (gk_graph_from_coo(fc.model, n, keep, ei, GK_INDEX_I64, fc.edge_attr,
                              &graphs[b], &err) != GK_OK) {
            printf("FAIL batch graph: %s\n", err.message);
            return 1;
        }
        xs[b] = malloc(n * f * sizeof(float));
        for (size_t k = 0; k < n * f; k++) xs[b][k] = fc.x[k] * (1.0f + 0.1f * (float)b);
        ys[b] = calloc(n * w, sizeof(float));
        ref[b] = calloc(n * w, sizeof(float));
    }
    gk_plan *single = NULL, *threaded = NULL;
    gk_plan_options opt = gk_plan_default_options();
    gk_plan_create(fc.model, n, e, &opt, &single, &err);
    opt.threads = 3;
    gk_plan_create(fc.model, n, e, &opt, &threaded, &err);
    for (int b = 0; b < BATCH; b++) gk_infer(single, graphs[b], xs[b], ref[b], NULL);
    for (int t = 0; t < 2; t++) {
        gk_plan *plan = t ? threaded : single;
        for (int b = 0; b < BATCH; b++) memset(ys[b], 0, n * w * sizeof(float));
        gk_status st = gk_infer_batch(plan, BATCH, (const gk_graph *const *)graphs,
                                      (const float *const *)xs, ys, &err);
        int same = st == GK_OK;
        for (int b = 0; b < BATCH; b++) same &= !memcmp(ys[b], ref[b], n * w * sizeof(float));
        printf("%s batch of %d on %s, %d thread(s): %s\n", same ? "ok  " : "FAIL", BATCH,
               name, t ? 3 : 1, same ? "every y bitwise identical to gk_infer" : "DIFFERS");
        failures += !same;
    }
    /* A bad item is named, and nothing runs. */
    const float *bad_x[2] = {xs[0], NULL};
    gk_status st = gk_infer_batch(threaded, 2, (const gk_graph *const *)graphs, bad_x, ys,
                                  &err);
    int named = st == GK_EINVAL && strstr(err.message, "batch item 1") != NULL;
    printf("%s batch with a NULL x reports it: %s\n", named ? "ok  " : "FAIL", err.message);
    failures += !named;
    gk_plan_free(single);
    gk_plan_free(threaded);
    for (int b = 0; b < BATCH; b++) {
        gk_graph_free(graphs[b]);
        free(xs[b]);
        free(ys[b]);
        free(ref[b]);
    }
    free(ei);
    fixture_free(&fc);
    return failures;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    static const char *const cases[] = {"ref_dense_n100", "ref_topk10_n100",
                                        "ref_topk16_n1000_edge1", "gatv2_quirky_n16_edge1",
                                        "residual_n30", "quirky_edge2_n20_h3mean",
                                        "noselfloops_n10"};
    static const gk_isa isas[] = {GK_ISA_AUTO, GK_ISA_GENERIC};
    int failures = 0;
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++)
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
            failures += check_case(dir, cases[c], isas[i]);
    failures += check_batch(dir, "ref_topk10_n100");
    failures += check_batch(dir, "ref_topk16_n1000_edge1");
    printf(failures ? "FAILED\n" : "all thread checks passed\n");
    return failures ? 1 : 0;
}
