// A C++ application linked fully static (-static) against the installed
// graphkern, as a trading binary would be. It defines two names that BLIS
// defines too (get_cpu_name, global_rntm): with BLIS's symbols made local
// inside libgraphkern.a they must not clash ("multiple definition").
#include <graphkern.h>

#include <cstdio>
#include <vector>

extern "C" const char *get_cpu_name(void) { return "the application's own"; }
extern "C" {
int global_rntm = 7;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: consumer_static MODEL\n");
        return 2;
    }
    gk_model *model = nullptr;
    gk_graph *graph = nullptr;
    gk_plan *plan = nullptr;
    gk_error err;
    if (gk_model_load_file(argv[1], &model, &err) != GK_OK) {
        std::fprintf(stderr, "consumer_static: %s\n", err.message);
        return 1;
    }
    const int nodes = 3;
    const int64_t edges[2][3] = {{0, 1, 2}, {1, 2, 0}};
    std::vector<float> x(nodes * gk_model_in_features(model), 0.5f);
    std::vector<float> y(nodes * gk_model_out_features(model));
    int rc = gk_graph_from_coo(model, nodes, 3, edges, GK_INDEX_I64, nullptr, &graph,
                               &err) ||
             gk_plan_create(model, nodes, 3, nullptr, &plan, &err) ||
             gk_infer(plan, graph, x.data(), y.data(), &err);
    std::printf("consumer_static: %s, y[0] = %g, %s, global_rntm = %d\n",
                rc ? err.message : "ok", static_cast<double>(y[0]), get_cpu_name(),
                global_rntm);
    gk_plan_free(plan);
    gk_graph_free(graph);
    gk_model_free(model);
    return rc;
}
