/* Linear layers: y = x · W^T + b over every leading index of x, with W kept
 * transposed ([in, out]) so that the inner loop runs along an output row
 * and vectorizes. One output column (a score head) is a dot product. */
#include <string.h>

#include "ops.h"

GK_OPS_PER_ISA
void gk_gemm_rows(const float *x, size_t rows, int in, const float *wt,
                  const float *b, int out, float *y) {
    if (out == 1) {
        float bias = b ? b[0] : 0.0f;
        for (size_t r = 0; r < rows; r++) {
            const float *xr = x + r * (size_t)in;
            float acc = 0.0f;
            for (int k = 0; k < in; k++) acc += xr[k] * wt[k];
            y[r] = acc + bias;
        }
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * (size_t)in;
        float *yr = y + r * (size_t)out;
        if (b) memcpy(yr, b, (size_t)out * sizeof *yr);
        else memset(yr, 0, (size_t)out * sizeof *yr);
        for (int k = 0; k < in; k++) {
            const float xk = xr[k];
            const float *wk = wt + (size_t)k * (size_t)out;
            for (int o = 0; o < out; o++) yr[o] += xk * wk[o];
        }
    }
}

void gk_run_linear(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    size_t rows = 1;
    for (int d = 0; d + 1 < ctx->in_ndim[0]; d++) rows *= (size_t)ctx->in_dims[0][d];
    gk_gemm_rows(ctx->in[0], rows, op->in_features, op->tensors[0], op->tensors[1],
                 op->out_features, ctx->out[0]);
}
