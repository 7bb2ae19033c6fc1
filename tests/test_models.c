/* Whole models (format 2): the six PyG fixture models, exported by
 * graphkern.export, against PyTorch's float64 run (y_ref_f64, computed by
 * PyTorch/PyG, not by graphkern) on every ISA this CPU runs and the generic
 * path, by gk_infer_named; with one and two threads (bitwise the same); and
 * through gk_infer with a gk_graph where the model has one edge set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_case.h"
#include "test_util.h"

static const double TOLERANCE = 1e-5;

static int run_named(gk_plan *plan, const model_case *mc, float *y, size_t cap,
                     gk_error *err) {
    gk_tensor out = {.name = "y", .data = y, .capacity = cap};
    if (gk_infer_named(plan, mc->inputs, (size_t)mc->num_inputs, &out, 1, err) != GK_OK)
        return 1;
    int same = out.ndim == mc->y_ndim;
    for (int d = 0; same && d < out.ndim; d++) same = out.shape[d] == mc->y_shape[d];
    if (!same) snprintf(err->message, sizeof err->message, "output shape differs from y_ref");
    return !same;
}

/* gk_infer with a graph built by the caller, where the model allows it. */
static int legacy_matches(const model_case *mc, gk_plan *plan, const float *y_named) {
    if (mc->num_inputs != 2) return 0;          /* x and edge_index only */
    const gk_tensor *x = NULL, *ei = NULL;
    for (int i = 0; i < 2; i++) {
        gk_io_info info;
        gk_model_input(mc->model, i, &info);
        if (info.kind == GK_IO_NODES) x = &mc->inputs[i];
        if (info.kind == GK_IO_EDGE_INDEX) ei = &mc->inputs[i];
    }
    if (!x || !ei || x->ndim != 2) return 0;
    gk_graph *g = NULL;
    gk_error err;
    if (gk_graph_create(mc->model, mc->nodes, mc->max_edges, &g, &err) != GK_OK) {
        printf("  graph: %s\n", err.message);
        return 1;
    }
    float *y = calloc(mc->y_count, sizeof *y);
    int bad = gk_graph_set_coo(g, mc->nodes, (size_t)ei->shape[1], ei->data, GK_INDEX_I64,
                               NULL, &err) != GK_OK ||
              gk_infer(plan, g, x->data, y, &err) != GK_OK;
    if (bad) printf("  gk_infer: %s\n", err.message);
    else if (memcmp(y, y_named, mc->y_count * sizeof *y) != 0) {
        printf("  gk_infer differs from gk_infer_named\n");
        bad = 1;
    }
    free(y);
    gk_graph_free(g);
    return bad;
}

static int check(const model_case *mc, const char *name, gk_isa isa, int threads) {
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = isa;
    opt.threads = threads;
    gk_plan *plan = NULL;
    gk_error err;
    if (gk_plan_create(mc->model, mc->nodes, mc->max_edges, &opt, &plan, &err) != GK_OK) {
        if (err.status == GK_EISA) return 0;   /* this CPU lacks the ISA */
        printf("FAIL %s: plan: %s\n", name, err.message);
        return 1;
    }
    float *y = calloc(mc->y_count, sizeof *y), *again = calloc(mc->y_count, sizeof *y);
    int failures = 0;
    if (run_named(plan, mc, y, mc->y_count, &err) || run_named(plan, mc, again, mc->y_count, &err)) {
        printf("FAIL %s isa %d: %s\n", name, (int)isa, err.message);
        failures = 1;
    } else {
        double e = model_case_error(y, mc->y_ref, mc->y_count);
        int repeat = memcmp(y, again, mc->y_count * sizeof *y) == 0;
        failures = !(e <= TOLERANCE) || !repeat;
        failures += legacy_matches(mc, plan, y);
        printf("%s %-26s isa %d threads %d: error %.2e vs float64%s\n",
               failures ? "FAIL" : "ok  ", name, (int)isa, threads, e,
               repeat ? "" : ", second call differs");
    }
    free(y);
    free(again);
    gk_plan_free(plan);
    return failures;
}

/* Bitwise the same with two threads as with one. */
static int check_threads(const model_case *mc, const char *name) {
    float *y[2];
    int failures = 0;
    for (int t = 0; t < 2; t++) {
        gk_plan_options opt = gk_plan_default_options();
        opt.threads = t + 1;
        gk_plan *plan = NULL;
        gk_error err;
        y[t] = calloc(mc->y_count, sizeof(float));
        if (gk_plan_create(mc->model, mc->nodes, mc->max_edges, &opt, &plan, &err) != GK_OK ||
            run_named(plan, mc, y[t], mc->y_count, &err)) {
            printf("FAIL %s threads %d: %s\n", name, t + 1, err.message);
            failures++;
        }
        gk_plan_free(plan);
    }
    if (!failures && memcmp(y[0], y[1], mc->y_count * sizeof(float)) != 0) {
        printf("FAIL %s: two threads differ from one\n", name);
        failures++;
    }
    free(y[0]);
    free(y[1]);
    return failures;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    tu_isa isas[TU_MAX_ISAS];
    const size_t num_isas = tu_all_isas(isas);
    int failures = 0;
    for (int c = 0; model_case_names[c]; c++) {
        model_case mc;
        if (model_case_load(dir, model_case_names[c], &mc)) {
            failures++;
            continue;
        }
        for (size_t i = 0; i < num_isas; i++)
            failures += check(&mc, model_case_names[c], isas[i].isa, 1);
        failures += check_threads(&mc, model_case_names[c]);
        model_case_free(&mc);
    }
    printf(failures ? "FAILED (%d)\n" : "all whole-model checks passed\n", failures);
    return failures ? 1 : 0;
}
