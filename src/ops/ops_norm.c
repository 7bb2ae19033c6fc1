/* Normalizations: LayerNorm over trailing dims (per node), PyG's graph-wide
 * LayerNorm (mean and std over the whole tensor, eps added to the std), and
 * the per-channel scale and shift that BatchNorm in eval mode is. Per-node
 * moments are two passes in float over 16 partial sums (vectors once built
 * per ISA); graph-wide ones in double (one sum over the whole graph). */
#include <math.h>

#include "ops.h"

enum { LANES = 16 };

static inline __attribute__((always_inline)) float lane_sum(const float *x, size_t n, float shift) {
    float part[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= n; k += LANES)
        for (int j = 0; j < LANES; j++) part[j] += x[k + j] - shift;
    float s = 0.0f;
    for (int j = 0; j < LANES; j++) s += part[j];
    for (; k < n; k++) s += x[k] - shift;
    return s;
}

static inline __attribute__((always_inline)) float lane_sq_sum(const float *x, size_t n, float mean) {
    float part[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= n; k += LANES)
        for (int j = 0; j < LANES; j++) part[j] += (x[k + j] - mean) * (x[k + j] - mean);
    float s = 0.0f;
    for (int j = 0; j < LANES; j++) s += part[j];
    for (; k < n; k++) s += (x[k] - mean) * (x[k] - mean);
    return s;
}

GK_OPS_PER_ISA
void gk_run_layer_norm(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int nd = ctx->in_ndim[0];
    size_t len = 1, rows = 1;
    for (int d = 0; d < nd; d++) {
        if (d >= nd - op->norm_dims) len *= (size_t)ctx->in_dims[0][d];
        else rows *= (size_t)ctx->in_dims[0][d];
    }
    const float *w = op->tensors[0], *b = op->tensors[1];
    for (size_t r = 0; r < rows; r++) {
        const float *x = ctx->in[0] + r * len;
        float *y = ctx->out[0] + r * len;
        float mean = lane_sum(x, len, 0.0f) / (float)len;
        float var = lane_sq_sum(x, len, mean) / (float)len;
        float inv = 1.0f / sqrtf(var + op->eps);
        if (w && b)
            for (size_t k = 0; k < len; k++) y[k] = (x[k] - mean) * inv * w[k] + b[k];
        else
            for (size_t k = 0; k < len; k++)
                y[k] = (x[k] - mean) * inv * (w ? w[k] : 1.0f) + (b ? b[k] : 0.0f);
    }
}

void gk_run_graph_layer_norm(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int nd = ctx->in_ndim[0];
    size_t n = 1, c = (size_t)ctx->in_dims[0][nd - 1];
    for (int d = 0; d < nd; d++) n *= (size_t)ctx->in_dims[0][d];
    const float *x = ctx->in[0];
    double mean = 0.0, var = 0.0;
    for (size_t k = 0; k < n; k++) mean += x[k];
    mean /= (double)n;
    for (size_t k = 0; k < n; k++) var += (x[k] - mean) * (x[k] - mean);
    double inv = 1.0 / (sqrt(var / (double)n) + op->eps);
    const float *w = op->tensors[0], *b = op->tensors[1];
    for (size_t k = 0; k < n; k++) {
        double v = (x[k] - mean) * inv;
        if (w) v *= w[k % c];
        if (b) v += b[k % c];
        ctx->out[0][k] = (float)v;
    }
}

GK_OPS_PER_ISA
void gk_run_scale_shift(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int nd = ctx->in_ndim[0], d = op->dim;
    size_t outer = 1, inner = 1, ch = (size_t)ctx->in_dims[0][d];
    for (int k = 0; k < d; k++) outer *= (size_t)ctx->in_dims[0][k];
    for (int k = d + 1; k < nd; k++) inner *= (size_t)ctx->in_dims[0][k];
    const float *scale = op->tensors[0], *shift = op->tensors[1];
    const float *x = ctx->in[0];
    float *y = ctx->out[0];
    if (inner == 1) {  /* channels last, [N, C]: the loop runs along a row */
        for (size_t o = 0; o < outer; o++, x += ch, y += ch)
            for (size_t c = 0; c < ch; c++) y[c] = x[c] * scale[c] + shift[c];
        return;
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < ch; c++)
            for (size_t i = 0; i < inner; i++, x++, y++) *y = *x * scale[c] + shift[c];
}
