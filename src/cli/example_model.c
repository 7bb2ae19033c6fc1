/* The demo's bundled model, built in memory as a safetensors file and loaded
 * through gk_model_load_buffer like any other model. Random weights from a
 * fixed seed (Glorot-like scale): it exercises every step and shows the
 * speed; its scores mean nothing. */
#include <math.h>
#include <stdlib.h>

#include "model.h"
#include "safetensors.h"
#include "tick.h"

enum { HEADS = 4, HIDDEN = 16, WIDTH = HEADS * HIDDEN };

static const char *const example_metadata =
    "{\"version\": 1, \"layers\": ["
    "{\"name\": \"conv1\", \"type\": \"GATConv\", \"in_channels\": 32, "
    "\"out_channels\": 16, \"heads\": 4, \"concat\": true, \"negative_slope\": 0.2, "
    "\"add_self_loops\": true, \"fill_value\": \"mean\", \"edge_dim\": 1, "
    "\"bias\": true, \"residual\": false, \"activation\": \"elu\"},"
    "{\"name\": \"conv2\", \"type\": \"GATConv\", \"in_channels\": 64, "
    "\"out_channels\": 1, \"heads\": 1, \"concat\": false, \"negative_slope\": 0.2, "
    "\"add_self_loops\": true, \"fill_value\": \"mean\", \"edge_dim\": 1, "
    "\"bias\": true, \"residual\": false, \"activation\": \"none\"}]}";

static float rand_weight(uint64_t *s, double scale) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (float)(((double)(z >> 11) * 0x1.0p-53 * 2.0 - 1.0) * scale);
}

static void fill(float *w, size_t count, double fan, uint64_t *s) {
    for (size_t k = 0; k < count; k++) w[k] = rand_weight(s, sqrt(3.0 / fan));
}

gk_status example_model_create(gk_model **out, gk_error *err) {
    static float w1[WIDTH * EXAMPLE_FEATURES], as1[WIDTH], ad1[WIDTH], b1[WIDTH];
    static float we1[WIDTH], ae1[WIDTH];
    static float w2[WIDTH], as2[1], ad2[1], b2[1], we2[1], ae2[1];
    uint64_t seed = 20240611;
    fill(w1, sizeof w1 / sizeof *w1, EXAMPLE_FEATURES, &seed);
    fill(as1, WIDTH, HIDDEN, &seed);
    fill(ad1, WIDTH, HIDDEN, &seed);
    fill(we1, WIDTH, 1, &seed);
    fill(ae1, WIDTH, HIDDEN, &seed);
    fill(b1, WIDTH, 100, &seed);
    fill(w2, WIDTH, WIDTH, &seed);
    fill(as2, 1, 1, &seed);
    fill(ad2, 1, 1, &seed);
    fill(we2, 1, 1, &seed);
    fill(ae2, 1, 1, &seed);
    fill(b2, 1, 100, &seed);
    const gk_st_out tensors[] = {
        {"conv1.lin.weight", GK_DT_F32, 2, {WIDTH, EXAMPLE_FEATURES}, w1},
        {"conv1.att_src", GK_DT_F32, 3, {1, HEADS, HIDDEN}, as1},
        {"conv1.att_dst", GK_DT_F32, 3, {1, HEADS, HIDDEN}, ad1},
        {"conv1.lin_edge.weight", GK_DT_F32, 2, {WIDTH, 1}, we1},
        {"conv1.att_edge", GK_DT_F32, 3, {1, HEADS, HIDDEN}, ae1},
        {"conv1.bias", GK_DT_F32, 1, {WIDTH}, b1},
        {"conv2.lin.weight", GK_DT_F32, 2, {1, WIDTH}, w2},
        {"conv2.att_src", GK_DT_F32, 3, {1, 1, 1}, as2},
        {"conv2.att_dst", GK_DT_F32, 3, {1, 1, 1}, ad2},
        {"conv2.lin_edge.weight", GK_DT_F32, 2, {1, 1}, we2},
        {"conv2.att_edge", GK_DT_F32, 3, {1, 1, 1}, ae2},
        {"conv2.bias", GK_DT_F32, 1, {1}, b2},
    };
    uint8_t *buf = NULL;
    size_t size = 0;
    gk_status st = gk_st_serialize(tensors, sizeof tensors / sizeof *tensors,
                                   example_metadata, &buf, &size, err);
    if (st != GK_OK) return st;
    st = gk_model_load_buffer(buf, size, out, err);
    gk_free(buf);
    return st;
}
