/* graphkern bench --gatv2: the reference GATConv model's shapes as
 * GATv2Conv, so that one run times both at the same shape
 * (docs/performance.md). Random weights (Glorot-like scale, fixed seed):
 * the timing does not depend on their values. */
#include "bench_gatv2.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "safetensors.h"

enum { MAX_LAYERS = 8, PER_LAYER = 7 };

static void fill_random(float *w, size_t count, double fan, uint64_t *s) {
    for (size_t k = 0; k < count; k++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        w[k] = (float)(((double)(z >> 11) * 0x1.0p-53 * 2.0 - 1.0) * sqrt(3.0 / fan));
    }
}

static const char *fill_name(gk_fill f) {
    static const char *const names[] = {"mean", "add", "max", "min", "mul"};
    return (unsigned)f < 5 ? names[f] : "mean";
}

static const char *activation_name(gk_activation a) {
    static const char *const names[] = {"none", "elu", "relu", "leaky_relu"};
    return (unsigned)a < 4 ? names[a] : "none";
}

gk_status bench_gatv2_model(const gk_model *ref, gk_model **out, gk_error *err) {
    int layers = gk_model_num_layers(ref);
    if (layers < 1 || layers > MAX_LAYERS || gk_model_version(ref) != 1) {
        if (err) snprintf(err->message, sizeof err->message,
                          "bench --gatv2: the reference model must be format 1, 1..%d layers",
                          MAX_LAYERS);
        return err ? (err->status = GK_EINVAL) : GK_EINVAL;
    }
    char meta[4096], names[MAX_LAYERS * PER_LAYER][64];
    gk_st_out tensors[MAX_LAYERS * PER_LAYER];
    float *buffers[MAX_LAYERS * PER_LAYER];
    size_t count = 0, len = (size_t)snprintf(meta, sizeof meta, "{\"version\": 1, \"layers\": [");
    uint64_t seed = 20250101;
    gk_status st = GK_OK;
    for (int l = 0; l < layers && st == GK_OK; l++) {
        gk_layer_info in;
        gk_model_layer(ref, l, &in);
        int64_t hc = (int64_t)in.heads * in.out_channels, f = in.in_channels;
        char edge_dim[16];  /* PyG's edge_dim=None: no edge features */
        snprintf(edge_dim, sizeof edge_dim, "%d", in.edge_dim);
        len += (size_t)snprintf(meta + len, sizeof meta - len,
            "%s{\"name\": \"%s\", \"type\": \"GATv2Conv\", \"in_channels\": %d, "
            "\"out_channels\": %d, \"heads\": %d, \"concat\": %s, \"negative_slope\": %g, "
            "\"add_self_loops\": %s, \"fill_value\": \"%s\", \"edge_dim\": %s, "
            "\"bias\": %s, \"residual\": false, \"share_weights\": false, "
            "\"activation\": \"%s\"}", l ? ", " : "", in.name, in.in_channels,
            in.out_channels, in.heads, in.concat ? "true" : "false",
            (double)in.negative_slope, in.add_self_loops ? "true" : "false",
            fill_name(in.fill), in.edge_dim ? edge_dim : "null", in.bias ? "true" : "false",
            activation_name(in.activation));
        struct { const char *key; int ndim; int64_t d0, d1, d2; double fan; } spec[] = {
            {"lin_l.weight", 2, hc, f, 0, (double)f}, {"lin_l.bias", 1, hc, 0, 0, 100},
            {"lin_r.weight", 2, hc, f, 0, (double)f}, {"lin_r.bias", 1, hc, 0, 0, 100},
            {"att", 3, 1, in.heads, in.out_channels, in.out_channels},
            {"lin_edge.weight", 2, hc, in.edge_dim, 0, in.edge_dim ? in.edge_dim : 1},
            {"bias", 1, in.out_width, 0, 0, 100}};
        for (int k = 0; k < PER_LAYER; k++) {
            if ((k == 5 && !in.edge_dim) || (k == 6 && !in.bias) || ((k == 1 || k == 3) && !in.bias))
                continue;
            size_t n = (size_t)spec[k].d0 * (size_t)(spec[k].ndim > 1 ? spec[k].d1 : 1) *
                       (size_t)(spec[k].ndim > 2 ? spec[k].d2 : 1);
            buffers[count] = malloc(n * sizeof(float));
            if (!buffers[count]) {
                st = GK_ENOMEM;
                break;
            }
            fill_random(buffers[count], n, spec[k].fan, &seed);
            snprintf(names[count], sizeof names[count], "%s.%s", in.name, spec[k].key);
            gk_st_out *t = &tensors[count];
            memset(t, 0, sizeof *t);
            t->name = names[count];
            t->dtype = GK_DT_F32;
            t->ndim = spec[k].ndim;
            t->shape[0] = spec[k].d0;
            t->shape[1] = spec[k].d1;
            t->shape[2] = spec[k].d2;
            t->data = buffers[count++];
        }
    }
    snprintf(meta + len, sizeof meta - len, "]}");
    uint8_t *buf = NULL;
    size_t size = 0;
    if (st == GK_OK) st = gk_st_serialize(tensors, count, meta, &buf, &size, err);
    if (st == GK_OK) st = gk_model_load_buffer(buf, size, out, err);
    gk_free(buf);
    for (size_t k = 0; k < count; k++) free(buffers[k]);
    return st;
}
