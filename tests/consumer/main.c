/* Loads a model through the installed header and library and runs it. */
#include <graphkern.h>
#include <stdio.h>

int main(int argc, char **argv) {
    gk_model *model = NULL;
    gk_error err;
    if (argc < 2 || gk_model_load_file(argv[1], &model, &err) != GK_OK) {
        fprintf(stderr, "consumer: %s\n", argc < 2 ? "usage: consumer MODEL" : err.message);
        return 1;
    }
    int64_t edges[2][2] = {{0, 1}, {1, 0}};
    float x[2 * 64] = {0}, y[2 * 64];
    gk_graph *graph = NULL;
    gk_plan *plan = NULL;
    int rc = gk_graph_from_coo(model, 2, 2, edges, GK_INDEX_I64, NULL, &graph, &err) ||
             gk_plan_create(model, 2, 2, NULL, &plan, &err) ||
             gk_infer(plan, graph, x, y, &err);
    printf("consumer: %s, y[0] = %g\n", rc ? err.message : "ok", (double)y[0]);
    gk_plan_free(plan);
    gk_graph_free(graph);
    gk_model_free(model);
    return rc;
}
