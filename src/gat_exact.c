/* Portable helpers of the generated GAT kernels, off their hot paths: the
 * exact per-row fallback and the key sort of the complete-graph kernels. */
#include <math.h>
#include <string.h>

#include "gat_kernels.h"

static float gat_logit(const gk_layer_run *run, const float *t_i, int32_t e,
                       int h) {
    const gk_layer *L = run->layer;
    int H = L->info.heads;
    float v = run->t[(size_t)run->view->src[e] * run->t_stride +
                     (size_t)(L->col_src + h)] + t_i[L->col_dst + h];
    for (int d = 0; d < L->info.edge_dim; d++)
        v += run->view->attr[(size_t)e * (size_t)run->edge_dim + (size_t)d] *
             L->edge_w[d * H + h];
    return v > 0.0f ? v : v * L->info.negative_slope;
}

void gk_gat_row_exact(const gk_layer_run *run, size_t i, float *out) {
    const gk_layer *L = run->layer;
    const int H = L->info.heads, C = L->info.out_channels;
    const float *t_i = run->t + i * run->t_stride;
    const int32_t first = run->view->row_ptr[i], last = run->view->row_ptr[i + 1];
    memset(out, 0, (size_t)(H * C) * sizeof *out);
    for (int h = 0; h < H; h++) {
        if (first == last) continue;
        float m = -INFINITY, sum = 0.0f;
        for (int32_t e = first; e < last; e++) {
            float l = gat_logit(run, t_i, e, h);
            m = l > m ? l : m;
        }
        for (int32_t e = first; e < last; e++) {
            float w = expf(gat_logit(run, t_i, e, h) - m);
            const float *h_j = run->t + (size_t)run->view->src[e] * run->t_stride +
                               (size_t)(L->col_h + h * C);
            sum += w;
            for (int c = 0; c < C; c++) out[h * C + c] += w * h_j[c];
        }
        float inv = 1.0f / (sum + 1e-16f);
        for (int c = 0; c < C; c++) out[h * C + c] *= inv;
        if (run->alpha)
            for (int32_t e = first; e < last; e++)
                run->alpha[(size_t)e * (size_t)H + (size_t)h] =
                    expf(gat_logit(run, t_i, e, h) - m) * inv;
    }
}

/* Order-preserving unsigned image of a float (no NaN). */
static inline uint32_t key_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

void gk_sort_keys(float *keys, int32_t *perm, size_t n, float *tmp_keys,
                  int32_t *tmp_perm) {
    if (n <= 48) {  /* insertion sort: fewer passes than the radix below */
        for (size_t i = 0; i < n; i++) perm[i] = (int32_t)i;
        for (size_t i = 1; i < n; i++) {
            float k = keys[i];
            int32_t p = perm[i];
            size_t j = i;
            for (; j > 0 && keys[j - 1] > k; j--) {
                keys[j] = keys[j - 1];
                perm[j] = perm[j - 1];
            }
            keys[j] = k;
            perm[j] = p;
        }
        return;
    }
    uint32_t hist[4][256];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint32_t b = key_bits(keys[i]);
        for (int d = 0; d < 4; d++) hist[d][(b >> (8 * d)) & 255]++;
        perm[i] = (int32_t)i;
    }
    float *ka = keys, *kb = tmp_keys;
    int32_t *pa = perm, *pb = tmp_perm;
    for (int d = 0; d < 4; d++) {
        uint32_t *hd = hist[d], sum = 0;
        int skip = 0;
        for (int v = 0; v < 256; v++) {
            if (hd[v] == n) skip = 1;
            uint32_t c = hd[v];
            hd[v] = sum;
            sum += c;
        }
        if (skip) continue;  /* every key has the same digit */
        for (size_t i = 0; i < n; i++) {
            uint32_t pos = hd[(key_bits(ka[i]) >> (8 * d)) & 255]++;
            kb[pos] = ka[i];
            pb[pos] = pa[i];
        }
        float *kt = ka; ka = kb; kb = kt;
        int32_t *pt = pa; pa = pb; pb = pt;
    }
    if (ka != keys) {
        memcpy(keys, ka, n * sizeof *keys);
        memcpy(perm, pa, n * sizeof *perm);
    }
}
