/* Normalizations: LayerNorm over trailing dims (per node), PyG's graph-wide
 * LayerNorm (mean and std over the whole tensor, eps added to the std), and
 * the per-channel scale and shift that BatchNorm in eval mode is. Moments
 * are taken in double. */
#include <math.h>

#include "ops.h"

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
        double mean = 0.0, var = 0.0;
        for (size_t k = 0; k < len; k++) mean += x[k];
        mean /= (double)len;
        for (size_t k = 0; k < len; k++) var += (x[k] - mean) * (x[k] - mean);
        double inv = 1.0 / sqrt(var / (double)len + op->eps);
        for (size_t k = 0; k < len; k++) {
            double v = (x[k] - mean) * inv;
            if (w) v *= w[k];
            if (b) v += b[k];
            y[k] = (float)v;
        }
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

void gk_run_scale_shift(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int nd = ctx->in_ndim[0], d = op->dim;
    size_t outer = 1, inner = 1, ch = (size_t)ctx->in_dims[0][d];
    for (int k = 0; k < d; k++) outer *= (size_t)ctx->in_dims[0][k];
    for (int k = d + 1; k < nd; k++) inner *= (size_t)ctx->in_dims[0][k];
    const float *scale = op->tensors[0], *shift = op->tensors[1];
    const float *x = ctx->in[0];
    float *y = ctx->out[0];
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < ch; c++)
            for (size_t i = 0; i < inner; i++, x++, y++) *y = *x * scale[c] + shift[c];
}
