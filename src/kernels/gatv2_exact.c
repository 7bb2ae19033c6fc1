/* Portable helper of the generated GATv2 kernels, off their hot path: the
 * attention weights of one row when the plan keeps them. */
#include <math.h>

#include "gat_kernels.h"

/* Logit of edge e (source row xl) for head h, in PyG's order. */
static float logit(const gk_layer_run *run, int32_t e, const float *xl, const float *xr,
                   int h) {
    const gk_layer *L = run->layer;
    const int C = L->info.out_channels, HC = L->info.heads * C;
    const int D = L->edge_w ? L->info.edge_dim : 0;
    const float ns = L->info.negative_slope;
    const float *a = D ? run->view->attr + (size_t)e * (size_t)run->edge_dim : NULL;
    float l = 0.0f;
    for (int c = h * C; c < (h + 1) * C; c++) {
        float v = xl[c] + xr[c];
        for (int d = 0; d < D; d++) v += a[d] * L->edge_w[d * HC + c];
        l += L->att[c] * (v > 0.0f ? v : v * ns);
    }
    return l;
}

void gk_gatv2_row_alpha(const gk_layer_run *run, size_t i, const float *sum) {
    const gk_layer *L = run->layer;
    const int H = L->info.heads;
    const float *xr = run->t + i * run->t_stride + L->col_xr;
    const int32_t e0 = run->view->row_ptr[i], e1 = run->view->row_ptr[i + 1];
    float m[16];  /* the row's max per head (H <= 16: the selector's limit) */
    for (int h = 0; h < H; h++) m[h] = -INFINITY;
    for (int32_t e = e0; e < e1; e++) {
        const float *xl = run->t + (size_t)run->view->src[e] * run->t_stride + L->col_h;
        for (int h = 0; h < H; h++) {
            float l = logit(run, e, xl, xr, h);
            m[h] = l > m[h] ? l : m[h];
        }
    }
    for (int32_t e = e0; e < e1; e++) {
        const float *xl = run->t + (size_t)run->view->src[e] * run->t_stride + L->col_h;
        for (int h = 0; h < H; h++)
            run->alpha[(size_t)e * (size_t)H + (size_t)h] =
                expf(logit(run, e, xl, xr, h) - m[h]) / (sum[h] + 1e-16f);
    }
}
