/* Every PyG fixture through the public C API (gk_model_load_file,
 * gk_graph_from_coo, gk_plan_create, gk_infer), for every ISA choice:
 * y must be within 1e-5 of PyG's float64 output by the fixture metric
 * max|y - y_pyg| / max(1, max|y_pyg|). A forced ISA the CPU lacks
 * (GK_EISA) is skipped with a message. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphkern.h"
#include "ref_gat.h"
#include "test_util.h"

#define TOL 1e-5

static tu_isa ISAS[TU_MAX_ISAS];  /* tu_all_isas(), in main */
static size_t NUM_ISAS;

typedef struct io_data {
    size_t N, E;
    int D;
    float *x;
    int64_t *edge_index;   /* [2, E] */
    float *edge_attr;      /* [E, D] or NULL */
    double *y_pyg;
    size_t ny;
} io_data;

static float *to_f32(const double *v, size_t n)
{
    float *out = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; out && i < n; i++)
        out[i] = (float)v[i];
    return out;
}

static int load_io(const char *dir, const char *name, int F, io_data *io)
{
    char path[1024];
    tu_file f;
    size_t nx = 0, nea = 0;
    int64_t *src = NULL, *dst = NULL;
    memset(io, 0, sizeof *io);
    snprintf(path, sizeof path, "%s/%s.io.safetensors", dir, name);
    if (tu_open(path, &f) != 0)
        return -1;
    double *x = tu_tensor_f64(&f.st, "x", &nx);
    double *ea = tu_tensor_f64(&f.st, "edge_attr", &nea);
    io->y_pyg = tu_tensor_f64(&f.st, "y_pyg_f64", &io->ny);
    int rc = -1;
    if (!x || !io->y_pyg || tu_edge_index(&f.st, &io->E, &src, &dst) != 0)
        goto out;
    io->N = nx / (size_t)F;
    io->D = ea && io->E ? (int)(nea / io->E) : 0;
    io->x = to_f32(x, nx);
    io->edge_attr = ea ? to_f32(ea, nea) : NULL;
    io->edge_index = malloc((2 * io->E + 1) * sizeof(int64_t));
    if (!io->x || !io->edge_index)
        goto out;
    memcpy(io->edge_index, src, io->E * sizeof(int64_t));
    memcpy(io->edge_index + io->E, dst, io->E * sizeof(int64_t));
    rc = 0;
out:
    free(x);
    free(ea);
    free(src);
    free(dst);
    tu_close(&f);
    return rc;
}

static void free_io(io_data *io)
{
    free(io->x);
    free(io->edge_index);
    free(io->edge_attr);
    free(io->y_pyg);
}

/* One fixture under one ISA: 0 pass, 1 fail, -1 skipped. */
static int run_isa(const char *name, const gk_model *model, const io_data *io,
                   int isa_index, double *err_out)
{
    gk_plan_options opt = gk_plan_default_options();
    gk_plan *plan = NULL;
    gk_graph *graph = NULL;
    gk_error err;
    int rc = 1;
    opt.isa = ISAS[isa_index].isa;
    gk_status st = gk_plan_create(model, io->N, io->E, &opt, &plan, &err);
    if (st == GK_EISA) {
        printf("  %-8s skipped: %s\n", ISAS[isa_index].name, err.message);
        return -1;
    }
    if (st != GK_OK) {
        printf("  %-8s FAIL gk_plan_create: %s\n", ISAS[isa_index].name,
               err.message);
        return 1;
    }
    if (gk_graph_from_coo(model, io->N, io->E, io->edge_index, GK_INDEX_I64,
                          io->edge_attr, &graph, &err) != GK_OK) {
        printf("  %-8s FAIL gk_graph_from_coo: %s\n", ISAS[isa_index].name,
               err.message);
        goto out;
    }
    float *y = calloc(io->ny + 1, sizeof(float));
    if (gk_infer(plan, graph, io->x, y, &err) != GK_OK) {
        printf("  %-8s FAIL gk_infer: %s\n", ISAS[isa_index].name,
               err.message);
    } else {
        double e = ref_rel_error_f32(y, io->y_pyg, io->ny);
        *err_out = e;
        rc = !(e < TOL);
        printf("  %-8s max err %.3e%s  kernels:", ISAS[isa_index].name, e,
               rc ? "  FAIL" : "");
        for (int l = 0; l < gk_model_num_layers(model); l++)
            printf(" %s", gk_plan_layer_kernel(plan, l));
        printf("\n");
    }
    free(y);
out:
    gk_graph_free(graph);
    gk_plan_free(plan);
    (void)name;
    return rc;
}

static int run_case(const char *dir, const char *name)
{
    char path[1024];
    gk_model *model = NULL;
    gk_error err;
    io_data io;
    int failures = 0;
    snprintf(path, sizeof path, "%s/%s.model.safetensors", dir, name);
    if (gk_model_load_file(path, &model, &err) != GK_OK) {
        printf("%s: FAIL gk_model_load_file: %s\n", name, err.message);
        return 1;
    }
    if (load_io(dir, name, gk_model_in_features(model), &io) != 0) {
        printf("%s: FAIL reading the io file\n", name);
        gk_model_free(model);
        return 1;
    }
    if (io.ny != io.N * (size_t)gk_model_out_features(model)) {
        printf("%s: FAIL model out width %d vs y_pyg_f64 [%zu values]\n",
               name, gk_model_out_features(model), io.ny);
        failures = 1;
    } else {
        double worst = 0.0;
        printf("%s (N=%zu E=%zu D=%d)\n", name, io.N, io.E, io.D);
        for (size_t k = 0; k < NUM_ISAS; k++) {
            double e = 0.0;
            int r = run_isa(name, model, &io, (int)k, &e);
            if (r > 0)
                failures++;
            if (r == 0 && e > worst)
                worst = e;
        }
        printf("  => %s max error over ISAs: %.3e\n", name, worst);
    }
    free_io(&io);
    gk_model_free(model);
    return failures;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    NUM_ISAS = tu_all_isas(ISAS);
    char path[1024];
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_error err;
    snprintf(path, sizeof path, "%s/index.json", dir);
    if (gk_read_file(path, &buf, &size, &err) != GK_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 1;
    }
    json_t *index = json_loadb((const char *)buf, size, 0, NULL);
    const json_t *c;
    size_t c_i;
    int failures = 0, count = 0;
    json_array_foreach(json_object_get(index, "cases"), c_i, c) {
        const json_t *name = json_object_get(c, "name");
        if (!json_is_string(name))
            continue;
        failures += run_case(dir, json_string_value(name));
        count++;
    }
    json_decref(index);
    free(buf);
    if (count == 0) {
        fprintf(stderr, "no fixture cases in %s\n", path);
        return 1;
    }
    printf("%d fixtures, %d failing runs (tolerance %.0e)\n", count, failures,
           TOL);
    return failures ? 1 : 0;
}
