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

/* Order-preserving unsigned image of a float (no NaN) and its inverse. */
static inline uint32_t key_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}
static inline float bits_key(uint32_t b) {
    uint32_t u = b & 0x80000000u ? b & 0x7fffffffu : ~b;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
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
    /* LSD radix, 8-bit digits; the keys travel as their order-preserving
     * bits (converted once in, once out). Each digit pass writes the keys of the first half forward from the
     * bucket starts and those of the second half backward from the bucket
     * ends (still stable): two independent chains of counter updates where
     * many keys share a digit. Histograms likewise count the two halves
     * separately. */
    uint32_t hist[2][4][256], lo[256], hi[256];
    memset(hist, 0, sizeof hist);
    const size_t m = n / 2;
    uint32_t *ka = (uint32_t *)(void *)keys, *kb = (uint32_t *)(void *)tmp_keys;
    for (size_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    for (size_t i = 0; i < m; i++) {
        uint32_t b0 = key_bits(keys[i]), b1 = key_bits(keys[m + i]);
        memcpy(ka + i, &b0, sizeof b0);
        memcpy(ka + m + i, &b1, sizeof b1);
        for (int d = 0; d < 4; d++) {
            hist[0][d][(b0 >> (8 * d)) & 255]++;
            hist[1][d][(b1 >> (8 * d)) & 255]++;
        }
    }
    if (n & 1) {
        uint32_t b = key_bits(keys[n - 1]);
        memcpy(ka + n - 1, &b, sizeof b);
        for (int d = 0; d < 4; d++) hist[1][d][(b >> (8 * d)) & 255]++;
    }
    int32_t *pa = perm, *pb = tmp_perm;
    for (int d = 0; d < 4; d++) {
        const uint32_t *h0 = hist[0][d], *h1 = hist[1][d];
        uint32_t sum = 0;
        const int sh = 8 * d;
        const uint32_t v0 = (ka[0] >> sh) & 255;
        if (h0[v0] + h1[v0] == n) continue;  /* every key has the same digit */
        for (int v = 0; v < 256; v++) {
            lo[v] = sum;
            sum += h0[v] + h1[v];
            hi[v] = sum;
        }
        for (size_t i = 0; i < m; i++) {
            const size_t j = n - 1 - i;
            const uint32_t b0 = ka[i], b1 = ka[j];
            const int32_t q0 = pa[i], q1 = pa[j];
            const uint32_t pos0 = lo[(b0 >> sh) & 255]++, pos1 = --hi[(b1 >> sh) & 255];
            kb[pos0] = b0;
            pb[pos0] = q0;
            kb[pos1] = b1;
            pb[pos1] = q1;
        }
        if (n & 1) {
            const uint32_t b = ka[m], pos = lo[(b >> sh) & 255];
            kb[pos] = b;
            pb[pos] = pa[m];
        }
        uint32_t *kt = ka; ka = kb; kb = kt;
        int32_t *pt = pa; pa = pb; pb = pt;
    }
    for (size_t i = 0; i < n; i++) { uint32_t b; memcpy(&b, ka + i, sizeof b); keys[i] = bits_key(b); }
    if (pa != perm) memcpy(perm, pa, n * sizeof *perm);
}
