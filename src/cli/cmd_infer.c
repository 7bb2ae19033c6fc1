/* graphkern infer --model M --input IN [--output OUT] [--repeat K]:
 * run the model, print y (first rows), the time per inference (K runs, 1
 * by default: timing is bench's job), and the error against y_pyg_f64
 * when the input file carries it. Inputs the model cannot take are refused
 * as the Python package refuses them (docs/errors.md, "CLI and Python"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "safetensors.h"

static int compare_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Median and p99 of `repeat` timed inferences, in microseconds. */
static gk_status time_inference(gk_plan *plan, gk_graph *graph, const float *x,
                                float *y, int repeat, double *p50, double *p99,
                                gk_error *err) {
    uint64_t *ns = calloc((size_t)repeat, sizeof *ns);
    if (!ns) return GK_ENOMEM;
    gk_status st = GK_OK;
    for (int k = 0; k < repeat && st == GK_OK; k++) {
        uint64_t t0 = cli_now_ns();
        st = gk_infer(plan, graph, x, y, err);
        ns[k] = cli_now_ns() - t0;
    }
    qsort(ns, (size_t)repeat, sizeof *ns, compare_u64);
    *p50 = (double)ns[repeat / 2] / 1e3;
    *p99 = (double)ns[(size_t)((double)repeat * 0.99)] / 1e3;
    free(ns);
    return st;
}

static void print_output(const float *y, size_t n, size_t w) {
    size_t shown = n < 5 ? n : 5;
    printf("y [%zu, %zu]:\n", n, w);
    for (size_t i = 0; i < shown; i++) {
        printf("  %4zu:", i);
        for (size_t k = 0; k < w && k < 8; k++) printf(" %9.5f", (double)y[i * w + k]);
        printf(w > 8 ? " ...\n" : "\n");
    }
    if (n > shown) printf("  ... (%zu more rows)\n", n - shown);
}

static double relative_error(const float *y, const double *ref, size_t count) {
    double diff = 0.0, scale = 1.0;
    for (size_t k = 0; k < count; k++) {
        double d = fabs((double)y[k] - ref[k]);
        diff = d > diff || isnan(d) ? d : diff;
        scale = fabs(ref[k]) > scale ? fabs(ref[k]) : scale;
    }
    return diff / scale;
}

static int write_output(const char *path, const float *y, size_t n, size_t w) {
    gk_st_out t = {"y", GK_DT_F32, 2, {(int64_t)n, (int64_t)w}, y};
    gk_error err;
    if (gk_st_write_file(path, &t, 1, NULL, &err) != GK_OK) return cli_error(path, &err);
    printf("wrote y to %s\n", path);
    return 0;
}

static const char usage_text[] =
    "usage: graphkern infer --model M --input IN [--output OUT] [--repeat K]\n"
    "                       [--isa auto|avx512|avx2|neon|scalar|generic]\n"
    "  IN holds x F32 [N, F], edge_index I64/I32 [2, E] and, when the model has\n"
    "  edge features, edge_attr F32 [E, D]; OUT receives y F32 [N, out].\n"
    "  A format-2 model (graphkern.export) reads each of its inputs from IN by\n"
    "  name and writes each of its outputs to OUT by name.\n"
    "  --repeat K times K inferences (default 1; graphkern bench for latency).\n";

/* The input against the model; messages as the Python package words them. */
static int check_against_model(const cli_input *in, const gk_model *model,
                               const char *path) {
    size_t f = (size_t)gk_model_in_features(model);
    size_t d = (size_t)gk_model_edge_dim(model);
    if (in->num_features != f)
        fprintf(stderr, "graphkern: %s: x has %zu features, the model expects %zu\n",
                path, in->num_features, f);
    else if (d == 0 && in->edge_attr)
        fprintf(stderr, "graphkern: %s: edge_attr given, but the model has no edge "
                        "features (edge_dim 0)\n", path);
    else if (d > 0 && !in->edge_attr)
        fprintf(stderr, "graphkern: %s: edge_attr [E, %zu] F32 is required: the model "
                        "has edge_dim %zu\n", path, d, d);
    else if (d > 0 && in->edge_dim != d)
        fprintf(stderr, "graphkern: %s: edge_attr has %zu features, the model expects "
                        "%zu\n", path, in->edge_dim, d);
    else
        return 0;
    return 1;
}

int cmd_infer(int argc, char **argv) {
    if (cli_flag(argc, argv, "--help") || cli_flag(argc, argv, "-h"))
        return fputs(usage_text, stdout), 0;
    const char *model_path = cli_option(argc, argv, "--model");
    const char *input_path = cli_option(argc, argv, "--input");
    const char *output_path = cli_option(argc, argv, "--output");
    const char *repeat_arg = cli_option(argc, argv, "--repeat");
    int repeat = repeat_arg ? atoi(repeat_arg) : 1;
    if (!model_path || !input_path || repeat < 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    gk_error err;
    gk_model *model = NULL;
    gk_graph *graph = NULL;
    gk_plan *plan = NULL;
    cli_input in;
    float *y = NULL;
    int rc = 1;
    gk_plan_options opt = gk_plan_default_options();
    const char *isa = cli_option(argc, argv, "--isa");
    if (isa) {
        gk_error isa_err;
        if (gk_isa_from_name(isa, &opt.isa, &isa_err) != GK_OK) {
            fprintf(stderr, "graphkern infer: --isa: %s\n", isa_err.message);
            return 2;
        }
    }

    if (gk_model_load_file(model_path, &model, &err) != GK_OK) {
        rc = cli_error(model_path, &err);
        goto done;
    }
    if (gk_model_version(model) == 2) {  /* inputs and outputs by name */
        rc = cmd_infer_named(model_path, model, input_path, output_path, repeat, &opt);
        goto done_model;
    }
    if (cli_read_input(input_path, &in, &err)) {
        rc = cli_error(input_path, &err);
        goto done_model;
    }
    if (check_against_model(&in, model, input_path)) goto done_input;
    if (gk_graph_from_coo(model, in.num_nodes, in.num_edges, in.edge_index,
                          in.index_type, in.edge_attr, &graph, &err) != GK_OK ||
        gk_plan_create(model, in.num_nodes, in.num_edges, &opt, &plan, &err) != GK_OK) {
        rc = cli_error(input_path, &err);
        goto done_input;
    }
    size_t w = (size_t)gk_model_out_features(model);
    y = calloc(in.num_nodes * w, sizeof *y);
    double p50 = 0, p99 = 0;
    if (!y || time_inference(plan, graph, in.x, y, repeat, &p50, &p99, &err) != GK_OK) {
        rc = cli_error("infer", &err);
        goto done_all;
    }
    print_output(y, in.num_nodes, w);
    printf("%zu nodes, %zu edges, kernels: %s", in.num_nodes, in.num_edges,
           gk_plan_layer_kernel(plan, 0));
    for (int l = 1; l < gk_model_num_layers(model); l++)
        printf(", %s", gk_plan_layer_kernel(plan, l));
    if (repeat == 1)
        printf("\ntime of one inference: %.2f us (--repeat K for a median)\n", p50);
    else
        printf("\ntime per inference: %.2f us median, %.2f us p99 over %d runs\n", p50,
               p99, repeat);
    if (in.y_ref && in.y_ref_cols == w)
        printf("max relative error vs y_pyg_f64: %.3g\n",
               relative_error(y, in.y_ref, in.num_nodes * w));
    rc = output_path ? write_output(output_path, y, in.num_nodes, w) : 0;
done_all:
    free(y);
    gk_plan_free(plan);
    gk_graph_free(graph);
done_input:
    cli_free_input(&in);
done_model:
    gk_model_free(model);
done:
    return rc;
}
