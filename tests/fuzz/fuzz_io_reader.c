/* Fuzz the CLI's .io reader (src/cli/cli_common.c, compiled in) and what
 * `graphkern infer` does with what it accepts: when a fixture model takes
 * x's width and edge_attr's width, build the graph, a plan sized exactly
 * for it, and run inference, as cmd_infer does. */
#include <dirent.h>

#include "cli.h"
#include "fuzz_common.h"

#define MAX_MODELS 32

static gk_model *models[MAX_MODELS];
static int num_models;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    DIR *dir = opendir(GK_FIXTURES_DIR);
    FUZZ_CHECK(dir != NULL);
    const struct dirent *ent;
    const char *suffix = ".model.safetensors";
    while ((ent = readdir(dir)) && num_models < MAX_MODELS) {
        size_t len = strlen(ent->d_name), sl = strlen(suffix);
        if (len <= sl || strcmp(ent->d_name + len - sl, suffix)) continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - sl), ent->d_name);
        models[num_models++] = fuzz_load_fixture(name);
    }
    closedir(dir);
    FUZZ_CHECK(num_models > 0);
    return 0;
}

static const gk_model *model_for(const cli_input *in) {
    for (int k = 0; k < num_models; k++) {
        size_t d = (size_t)gk_model_edge_dim(models[k]);
        if ((size_t)gk_model_in_features(models[k]) == in->num_features &&
            (d == 0 || d == in->edge_dim))
            return models[k];
    }
    return NULL;
}

static void run_inference(const gk_model *m, const cli_input *in, int validate) {
    gk_graph *graph = NULL;
    gk_plan *plan = NULL;
    gk_error err;
    gk_plan_options opt = gk_plan_default_options();
    opt.validate_inputs = validate;
    gk_status st = gk_graph_from_coo(m, in->num_nodes, in->num_edges, in->edge_index,
                                     in->index_type, in->edge_attr, &graph, &err);
    if (st != GK_OK) {
        fuzz_check_failure(st, &err);
        FUZZ_CHECK(graph == NULL);
        return;
    }
    FUZZ_CHECK(gk_graph_num_nodes(graph) == in->num_nodes);
    FUZZ_CHECK(gk_graph_num_edges(graph) == in->num_edges);
    st = gk_plan_create(m, in->num_nodes, in->num_edges, &opt, &plan, &err);
    if (st == GK_OK) {
        size_t w = (size_t)gk_model_out_features(m);
        float *y = calloc(in->num_nodes * w, sizeof *y);
        FUZZ_CHECK(y != NULL);
        st = gk_infer(plan, graph, in->x, y, &err);
        /* x may hold NaN/Inf: rejected when validating, else computed */
        if (st != GK_OK) {
            fuzz_check_failure(st, &err);
            FUZZ_CHECK(validate && st == GK_ENONFINITE);
        }
        free(y);
    } else {
        fuzz_check_failure(st, &err);
    }
    gk_plan_free(plan);
    gk_graph_free(graph);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *file = malloc(size ? size : 1);
    FUZZ_CHECK(file != NULL);
    memcpy(file, data, size);
    cli_input in;
    gk_error err;
    if (cli_parse_input(file, size, "fuzz.io", &in, &err)) {
        fuzz_check_failure(err.status, &err);
        FUZZ_CHECK(in.file == NULL && in.x == NULL);  /* nothing left to free */
        return 0;
    }
    const gk_model *m = model_for(&in);
    if (m) run_inference(m, &in, (int)(size & 1));
    cli_free_input(&in);
    return 0;
}
