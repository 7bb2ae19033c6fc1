/* graphkern info --model M: the layer table and the plan's kernel choices.
 * graphkern info --kernels [all]: the ISA table and the registry of this
 * build (what a new shape or ISA added). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "registry.h"
#include "select.h"

/* The ISA table (best first), then per op the registry's kernel count per
 * ISA; with `all`, every row. */
static int info_kernels(int all) {
    printf("ISAs (codegen/isas.toml, best first):\n");
    for (int q = 0; q < gk_isa_count(); q++) {
        gk_isa isa = gk_isa_at(q);
        printf("  %-8s falls back to %-8s %s\n", gk_isa_name(isa), gk_isa_name(gk_isa_next(isa)),
               gk_cpu_supports(isa) ? "runs here" : "not on this CPU/build");
    }
    printf("\nregistry: %zu kernels in this build\n  %-22s", gk_num_kernel_rows, "op");
    for (int q = 0; q < gk_isa_count(); q++) printf(" %8s", gk_isa_name(gk_isa_at(q)));
    printf("\n");
    for (int op = GK_KERNEL_TRANSFORM; op <= GK_KERNEL_VEXPM1_NEG; op++) {
        printf("  %-22s", gk_kernel_op_name((gk_kernel_op)op));
        for (int q = 0; q < gk_isa_count(); q++) {
            size_t count = 0;
            for (size_t r = 0; r < gk_num_kernel_rows; r++)
                count += gk_kernel_rows[r].op == (gk_kernel_op)op &&
                         gk_kernel_rows[r].isa == gk_isa_at(q);
            printf(" %8zu", count);
        }
        printf("\n");
    }
    if (all) {
        printf("\n  %-22s %-8s %-20s name\n", "op", "isa", "key");
        for (size_t r = 0; r < gk_num_kernel_rows; r++) {
            const gk_kernel_row *k = &gk_kernel_rows[r];
            char key[64];
            snprintf(key, sizeof key, "(%d, %d, %d, %d)", k->key.v[0], k->key.v[1],
                     k->key.v[2], k->key.v[3]);
            printf("  %-22s %-8s %-20s %s\n", gk_kernel_op_name(k->op), gk_isa_name(k->isa),
                   key, k->name);
        }
    }
    return 0;
}

static const char *fill_name(const gk_layer_info *in) {
    static const char *const names[] = {"mean", "add", "max", "min", "mul", "const"};
    return in->add_self_loops ? names[in->fill] : "-";
}

static const char *act_name(gk_activation a) {
    static const char *const names[] = {"none", "elu", "relu", "leaky_relu"};
    return names[a];
}

static void print_io(const char *what, const gk_io_info *io) {
    static const char *const kinds[] = {"nodes", "edge_index", "edges", "fixed"};
    printf("  %-6s %-18s %-10s [", what, io->name, kinds[io->kind]);
    for (int d = 0; d < io->ndim; d++) {
        if (io->shape[d] == GK_DIM_NODES) printf(d ? ", N" : "N");
        else if (io->shape[d] == GK_DIM_EDGES) printf(d ? ", E" : "E");
        else printf(d ? ", %lld" : "%lld", (long long)io->shape[d]);
    }
    printf("]%s%s\n", io->edge_index ? " of " : "", io->edge_index ? io->edge_index : "");
}

/* A format-2 model: its inputs and outputs, then the plan's op table. */
static int info_named(const char *path, const gk_model *model, int argc, char **argv) {
    printf("model %s: format 2 (a graph of ops), %d input(s), %d output(s)\n", path,
           gk_model_num_inputs(model), gk_model_num_outputs(model));
    gk_io_info io;
    for (int i = 0; i < gk_model_num_inputs(model); i++)
        if (gk_model_input(model, i, &io) == GK_OK) print_io("input", &io);
    for (int i = 0; i < gk_model_num_outputs(model); i++)
        if (gk_model_output(model, i, &io) == GK_OK) print_io("output", &io);
    const char *nodes = cli_option(argc, argv, "--nodes");
    const char *edges = cli_option(argc, argv, "--edges");
    size_t n = nodes ? strtoull(nodes, NULL, 10) : 100;
    size_t e = edges ? strtoull(edges, NULL, 10) : n * 16;
    gk_plan *plan = NULL;
    gk_error err;
    if (gk_plan_create(model, n, e, NULL, &plan, &err) != GK_OK) return cli_error("plan", &err);
    size_t need = gk_plan_describe(plan, NULL, 0);
    char *text = malloc(need + 1);
    if (text) {
        gk_plan_describe(plan, text, need + 1);
        printf("\n%s", text);
    }
    free(text);
    gk_plan_free(plan);
    return 0;
}

int cmd_info(int argc, char **argv) {
    static const char usage_text[] =
        "usage: graphkern info --model M.safetensors [--nodes N --edges E]\n"
        "       graphkern info --kernels [all]   the ISA table and the kernel registry\n";
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h"))
        return fputs(usage_text, stdout), 0;
    for (int a = 1; a < argc; a++)
        if (!strcmp(argv[a], "--kernels"))
            return info_kernels(a + 1 < argc && !strcmp(argv[a + 1], "all"));
    const char *path = cli_option(argc, argv, "--model");
    if (!path) {
        fputs(usage_text, stderr);
        return 2;
    }
    gk_error err;
    gk_model *model = NULL;
    if (gk_model_load_file(path, &model, &err) != GK_OK) return cli_error(path, &err);

    if (gk_model_version(model) == 2) {
        int rc = info_named(path, model, argc, argv);
        gk_model_free(model);
        return rc;
    }
    printf("model %s: %d layers, x [N, %d] -> y [N, %d], edge_dim %d\n\n", path,
           gk_model_num_layers(model), gk_model_in_features(model),
           gk_model_out_features(model), gk_model_edge_dim(model));
    printf("  #  %-10s %-9s %5s %5s %5s %-6s %6s %5s %-5s %4s %3s %-10s\n", "name",
           "type", "in", "out", "heads", "heads:", "slope", "loops", "fill", "edge",
           "res", "activation");
    for (int l = 0; l < gk_model_num_layers(model); l++) {
        gk_layer_info in;
        gk_model_layer(model, l, &in);
        printf("  %d  %-10s %-9s %5d %5d %5d %-6s %6.3g %5s %-5s %4d %3s %-10s\n", l,
               in.name, in.type == GK_LAYER_GATV2 ? "GATv2Conv" : "GATConv",
               in.in_channels, in.out_channels, in.heads, in.concat ? "concat" : "mean",
               (double)in.negative_slope, in.add_self_loops ? "yes" : "no",
               fill_name(&in), in.edge_dim, in.residual ? "yes" : "no",
               act_name(in.activation));
    }

    const char *nodes = cli_option(argc, argv, "--nodes");
    const char *edges = cli_option(argc, argv, "--edges");
    size_t n = nodes ? strtoull(nodes, NULL, 10) : 100;
    size_t e = edges ? strtoull(edges, NULL, 10) : n * n;
    gk_plan *plan = NULL;
    if (gk_plan_create(model, n, e, NULL, &plan, &err) != GK_OK) {
        gk_model_free(model);
        return cli_error("plan", &err);
    }
    char text[8192];
    gk_plan_describe(plan, text, sizeof text);
    printf("\n%s", text);
    gk_plan_free(plan);
    gk_model_free(model);
    return 0;
}
