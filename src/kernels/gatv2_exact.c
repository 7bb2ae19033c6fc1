/* Portable helper of the generated GATv2 kernels, off their hot path: the
 * attention weights of one row when the plan keeps them. */
#include <math.h>

#include "gat_kernels.h"

void gk_gatv2_row_alpha(const gk_layer_run *run, size_t i, const float *m,
                        const float *sum) {
    const gk_layer *L = run->layer;
    const int H = L->info.heads, C = L->info.out_channels, HC = H * C;
    const int D = L->edge_w ? L->info.edge_dim : 0;
    const float ns = L->info.negative_slope;
    const float *xr = run->t + i * run->t_stride + L->col_xr;
    for (int32_t e = run->view->row_ptr[i]; e < run->view->row_ptr[i + 1]; e++) {
        const float *xl = run->t + (size_t)run->view->src[e] * run->t_stride + L->col_h;
        const float *a = D ? run->view->attr + (size_t)e * (size_t)run->edge_dim : NULL;
        for (int h = 0; h < H; h++) {
            float l = 0.0f;
            for (int c = h * C; c < (h + 1) * C; c++) {
                float v = xl[c] + xr[c];
                for (int d = 0; d < D; d++) v += a[d] * L->edge_w[d * HC + c];
                l += L->att[c] * (v > 0.0f ? v : v * ns);
            }
            run->alpha[(size_t)e * (size_t)H + (size_t)h] = expf(l - m[h]) / (sum[h] + 1e-16f);
        }
    }
}
