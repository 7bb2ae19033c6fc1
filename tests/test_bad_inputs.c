/* Bad inputs to graph, plan and inference: each gets its own status and a
 * message, never a crash. (Bad model files: test_model_load.c.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_case.h"

static int failures = 0;

static void expect(const char *what, gk_status got, gk_status want, const gk_error *err) {
    int ok = got == want && (want == GK_OK || err->message[0] != '\0');
    printf("%s %-52s %s  %s\n", ok ? "ok  " : "FAIL", what, gk_strerror(got),
           got != GK_OK ? err->message : "");
    if (!ok) {
        printf("      expected %s\n", gk_strerror(want));
        failures++;
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    fixture_case fc, fe;
    if (fixture_load(dir, "ref_topk10_n100", &fc) ||
        fixture_load(dir, "ref_topk16_n1000_edge1", &fe))
        return 1;
    gk_error err;
    gk_graph *g = NULL;
    gk_plan *p = NULL;
    size_t n = fc.num_nodes, e = fc.num_edges;
    float *y = calloc(n * fc.out_width, sizeof *y);

    /* graph creation and COO validation */
    expect("graph: max_nodes = 0", gk_graph_create(fc.model, 0, 10, &g, &err), GK_EINVAL, &err);
    expect("graph: sizes overflow int32 indexing",
           gk_graph_create(fc.model, (size_t)1 << 31, 10, &g, &err), GK_EOVERFLOW, &err);
    expect("graph: nodes + edges overflow size_t",
           gk_graph_create(fc.model, 100, SIZE_MAX - 10, &g, &err), GK_EOVERFLOW, &err);
    expect("graph: create", gk_graph_create(fc.model, n, e, &g, &err), GK_OK, &err);
    expect("graph: N above capacity",
           gk_graph_set_coo(g, n + 1, e, fc.edge_index, GK_INDEX_I64, NULL, &err), GK_ELIMIT, &err);
    expect("graph: E above capacity",
           gk_graph_set_coo(g, n, e + 1, fc.edge_index, GK_INDEX_I64, NULL, &err), GK_ELIMIT, &err);
    expect("graph: N = 0", gk_graph_set_coo(g, 0, 0, NULL, GK_INDEX_I64, NULL, &err), GK_EINVAL, &err);
    expect("graph: NULL edge_index with E > 0",
           gk_graph_set_coo(g, n, e, NULL, GK_INDEX_I64, NULL, &err), GK_EINVAL, &err);
    expect("graph: unknown index type",
           gk_graph_set_coo(g, n, e, fc.edge_index, (gk_index_type)7, NULL, &err), GK_EINVAL, &err);
    int64_t *bad = malloc(2 * e * sizeof *bad);
    memcpy(bad, fc.edge_index, 2 * e * sizeof *bad);
    bad[17] = -3;
    expect("graph: negative source index",
           gk_graph_set_coo(g, n, e, bad, GK_INDEX_I64, NULL, &err), GK_EINDEX, &err);
    bad[17] = fc.edge_index[17];
    bad[e + 5] = (int64_t)n;
    expect("graph: target index == N",
           gk_graph_set_coo(g, n, e, bad, GK_INDEX_I64, NULL, &err), GK_EINDEX, &err);
    bad[e + 5] = INT64_MAX;
    expect("graph: target index INT64_MAX",
           gk_graph_set_coo(g, n, e, bad, GK_INDEX_I64, NULL, &err), GK_EINDEX, &err);
    int32_t small[4] = {0, 1, 1, 200};
    expect("graph: int32 index >= N",
           gk_graph_set_coo(g, n, 2, small, GK_INDEX_I32, NULL, &err), GK_EINDEX, &err);

    /* the failed set leaves the graph unusable, not half-built */
    expect("plan: create", gk_plan_create(fc.model, n, e, NULL, &p, &err), GK_OK, &err);
    expect("infer: graph whose last set failed", gk_infer(p, g, fc.x, y, &err), GK_EINVAL, &err);
    expect("graph: valid set", gk_graph_set_coo(g, n, e, fc.edge_index, GK_INDEX_I64, NULL, &err),
           GK_OK, &err);
    expect("infer: valid", gk_infer(p, g, fc.x, y, &err), GK_OK, &err);

    /* inference */
    expect("infer: NULL x", gk_infer(p, g, NULL, y, &err), GK_EINVAL, &err);
    float saved = fc.x[3 * fc.num_features + 2];
    fc.x[3 * fc.num_features + 2] = NAN;
    expect("infer: NaN in x (rejected by default)", gk_infer(p, g, fc.x, y, &err), GK_ENONFINITE,
           &err);
    fc.x[3 * fc.num_features + 2] = INFINITY;
    expect("infer: Inf in x", gk_infer(p, g, fc.x, y, &err), GK_ENONFINITE, &err);
    gk_plan *trusting = NULL;
    gk_plan_options opt = gk_plan_default_options();
    opt.validate_inputs = 0;
    fc.x[3 * fc.num_features + 2] = NAN;
    expect("plan: validate_inputs = 0",
           gk_plan_create(fc.model, n, e, &opt, &trusting, &err), GK_OK, &err);
    expect("infer: NaN in x propagates when not validating",
           gk_infer(trusting, g, fc.x, y, &err), GK_OK, &err);
    int nan_rows = 0;
    for (size_t k = 0; k < n * fc.out_width; k++) nan_rows += isnan(y[k]);
    printf("%s NaN propagated to %d outputs (node 3 and its neighbours)\n",
           nan_rows > 0 ? "ok  " : "FAIL", nan_rows);
    failures += nan_rows == 0;
    fc.x[3 * fc.num_features + 2] = saved;
    gk_plan_free(trusting);

    gk_plan *tiny = NULL;
    expect("plan: smaller than the graph", gk_plan_create(fc.model, 10, 10, NULL, &tiny, &err),
           GK_OK, &err);
    expect("infer: graph above the plan's limits", gk_infer(tiny, g, fc.x, y, &err), GK_ELIMIT,
           &err);
    gk_plan_free(tiny);

    /* graph for another model layout: fe has edge features, fc does not */
    gk_graph *ge = NULL;
    expect("graph: edge model without edge_attr",
           gk_graph_from_coo(fe.model, fe.num_nodes, fe.num_edges, fe.edge_index, GK_INDEX_I64,
                             NULL, &ge, &err), GK_EINVAL, &err);
    float saved_attr = fe.edge_attr[42];
    fe.edge_attr[42] = NAN;
    expect("graph: NaN in edge_attr",
           gk_graph_from_coo(fe.model, fe.num_nodes, fe.num_edges, fe.edge_index, GK_INDEX_I64,
                             fe.edge_attr, &ge, &err), GK_ENONFINITE, &err);
    fe.edge_attr[42] = saved_attr;
    expect("graph: edge model", gk_graph_from_coo(fe.model, fe.num_nodes, fe.num_edges,
                                                  fe.edge_index, GK_INDEX_I64, fe.edge_attr,
                                                  &ge, &err), GK_OK, &err);
    gk_plan *pe = NULL;
    gk_plan_create(fc.model, fe.num_nodes, fe.num_edges, NULL, &pe, &err);
    float *ye = calloc(fe.num_nodes * fe.out_width, sizeof *ye);
    expect("infer: graph built for another model layout", gk_infer(pe, ge, fe.x, ye, &err),
           GK_EMISMATCH, &err);
    gk_plan_free(pe);

    /* declared complete graphs: sizes checked before n * n is formed */
    expect("complete: NULL graph", gk_graph_set_complete(NULL, 10, 0, NULL, &err), GK_EINVAL,
           &err);
    expect("complete: N = 0", gk_graph_set_complete(g, 0, 0, NULL, &err), GK_EINVAL, &err);
    expect("complete: N above capacity", gk_graph_set_complete(g, n + 1, 0, NULL, &err),
           GK_ELIMIT, &err);
    expect("complete: N = SIZE_MAX", gk_graph_set_complete(g, SIZE_MAX, 1, NULL, &err),
           GK_ELIMIT, &err);
    expect("complete: N(N-1) edges above capacity",
           gk_graph_set_complete(g, n, 0, NULL, &err), GK_ELIMIT, &err);
    expect("infer: graph whose last set_complete failed", gk_infer(p, g, fc.x, y, &err),
           GK_EINVAL, &err);
    expect("complete: 31 nodes fit", gk_graph_set_complete(g, 31, 1, NULL, &err), GK_OK, &err);
    size_t nc = 120, ec = nc * (nc - 1);
    float *attr = malloc(ec * sizeof *attr);
    for (size_t k = 0; k < ec; k++) attr[k] = 0.25f;
    expect("complete: edge model without edge_attr",
           gk_graph_set_complete(ge, nc, 0, NULL, &err), GK_EINVAL, &err);
    attr[ec - 1] = INFINITY;
    expect("complete: Inf in edge_attr", gk_graph_set_complete(ge, nc, 0, attr, &err),
           GK_ENONFINITE, &err);
    attr[ec - 1] = 0.25f;
    expect("complete: edge model", gk_graph_set_complete(ge, nc, 0, attr, &err), GK_OK, &err);
    free(attr);

    /* plans */
    gk_plan *q = NULL;
    expect("plan: max_nodes = 0", gk_plan_create(fc.model, 0, 1, NULL, &q, &err), GK_EINVAL, &err);
    expect("plan: sizes overflow", gk_plan_create(fc.model, 100, SIZE_MAX / 2, NULL, &q, &err),
           GK_EOVERFLOW, &err);
    opt = gk_plan_default_options();
    opt.isa = (gk_isa)42;
    expect("plan: unknown ISA", gk_plan_create(fc.model, 10, 10, &opt, &q, &err), GK_EINVAL, &err);
    opt = gk_plan_default_options();
    opt.threads = -1;
    expect("plan: negative threads", gk_plan_create(fc.model, 10, 10, &opt, &q, &err), GK_EINVAL,
           &err);
    expect("plan: NULL model", gk_plan_create(NULL, 10, 10, NULL, &q, &err), GK_EINVAL, &err);
    printf("%s gk_strerror of an unknown status: %s\n", "ok  ", gk_strerror((gk_status)999));

    free(ye);
    free(bad);
    free(y);
    gk_graph_free(ge);
    gk_graph_free(g);
    gk_plan_free(p);
    fixture_free(&fc);
    fixture_free(&fe);
    printf(failures ? "%d FAILED\n" : "all bad-input checks passed\n", failures);
    return failures ? 1 : 0;
}
