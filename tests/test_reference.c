/* The float64 reference (ref_gat.c) against PyG's own float64 outputs:
 * every fixture listed in <fixtures>/index.json must agree within 1e-9 by
 * the fixture metric, and every target's attention weights must sum to 1.
 * Fixtures are read with the library's safetensors parser; the model's
 * layer configs are parsed here, independently of the library's loader. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_gat.h"
#include "test_util.h"

#define REF_TOL 1e-9

/* Every node's incoming attention weights sum to 1 per head (each node
 * with at least one incoming edge). */
static int check_alpha_sums(const ref_attention *a, size_t N)
{
    int H = a->heads;
    double *sum = calloc(N * (size_t)H + 1, sizeof(double));
    int *deg = calloc(N + 1, sizeof(int));
    int bad = 0;
    for (size_t k = 0; k < a->num_edges; k++) {
        deg[a->dst[k]]++;
        for (int h = 0; h < H; h++)
            sum[a->dst[k] * H + h] += a->alpha[k * H + h];
    }
    for (size_t i = 0; i < N; i++)
        for (int h = 0; h < H; h++)
            if (deg[i] > 0 && fabs(sum[i * H + h] - 1.0) > 1e-12)
                bad = 1;
    free(sum);
    free(deg);
    return bad;
}

static int run_case(const char *dir, const char *name)
{
    char path[1024];
    tu_file mf, io;
    tu_model m;
    size_t E = 0, nx = 0, ny = 0, nea = 0;
    int64_t *src = NULL, *dst = NULL;
    int fail = 1;

    snprintf(path, sizeof path, "%s/%s.model.safetensors", dir, name);
    if (tu_open(path, &mf) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/%s.io.safetensors", dir, name);
    if (tu_open(path, &io) != 0) {
        tu_close(&mf);
        return 1;
    }
    if (tu_model_from_st(&mf.st, &m) != 0) {
        fprintf(stderr, "%s: cannot build the reference model\n", name);
        goto out_files;
    }
    double *x = tu_tensor_f64(&io.st, "x", &nx);
    double *y_pyg = tu_tensor_f64(&io.st, "y_pyg_f64", &ny);
    double *ea = tu_tensor_f64(&io.st, "edge_attr", &nea);
    if (!x || !y_pyg || tu_edge_index(&io.st, &E, &src, &dst) != 0) {
        fprintf(stderr, "%s: io file lacks x, y_pyg_f64 or edge_index\n",
                name);
        goto out;
    }
    size_t N = nx / (size_t)m.layers[0].in_channels;
    int D = ea && E ? (int)(nea / E) : 0;
    int ow = m.layers[m.num_layers - 1].out_width;
    if (ny != N * (size_t)ow) {
        fprintf(stderr, "%s: y_pyg_f64 has %zu values, expected %zu\n", name,
                ny, N * (size_t)ow);
        goto out;
    }
    double *y = calloc(ny, sizeof(double));
    ref_attention *att = calloc((size_t)m.num_layers, sizeof *att);
    if (ref_forward(m.layers, m.num_layers, N, E, src, dst, ea, D, x, y,
                    att) != 0) {
        fprintf(stderr, "%s: reference forward failed\n", name);
    } else {
        double err = ref_rel_error_f64(y, y_pyg, ny);
        int bad_alpha = 0;
        for (int l = 0; l < m.num_layers; l++)
            bad_alpha |= check_alpha_sums(&att[l], N);
        fail = !(err < REF_TOL) || bad_alpha;
        printf("%-28s N=%-5zu E=%-6zu layers=%d  ref vs PyG f64: %.3e%s%s\n",
               name, N, E, m.num_layers, err, fail ? "  FAIL" : "",
               bad_alpha ? " (alpha sums)" : "");
    }
    for (int l = 0; l < m.num_layers; l++)
        ref_attention_free(&att[l]);
    free(att);
    free(y);
out:
    free(x);
    free(y_pyg);
    free(ea);
    free(src);
    free(dst);
    tu_model_free(&m);
out_files:
    tu_close(&mf);
    tu_close(&io);
    return fail;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
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
    const json_t *cases = json_object_get(index, "cases");
    int failures = 0, count = 0;
    const json_t *c;
    size_t c_i;
    json_array_foreach(cases, c_i, c) {
        const json_t *name = json_object_get(c, "name");
        if (!json_is_string(name))
            continue;
        failures += run_case(dir, json_string_value(name));
        count++;
    }
    json_decref(index);
    free(buf);
    if (count == 0) {
        fprintf(stderr, "no fixture cases found in %s\n", path);
        return 1;
    }
    printf("%d/%d fixtures: reference within %.0e of PyG float64\n",
           count - failures, count, REF_TOL);
    return failures ? 1 : 0;
}
