/* Linear layers: y = x · W^T + b over every leading index of x, with W kept
 * transposed ([in, out]). The product is register-tiled: 4 rows by 16
 * output columns accumulate in fixed-size arrays (vectors once compiled per
 * ISA) while the depth runs; the edges of y go one row at a time. One output column (a score head) is a dot product kept
 * in 16 partial sums. */
#include <string.h>

#include "ops.h"

enum { TILE_ROWS = 4, TILE_COLS = 16 };

#define GK_INLINE static inline __attribute__((always_inline))

/* A full tile: rows [r, r + 4) x columns [c, c + 16), in registers. */
GK_INLINE void full_tile(const float *x, size_t r, int in, const float *wt, const float *b,
                         int out, int c, float *y) {
    float a0[TILE_COLS], a1[TILE_COLS], a2[TILE_COLS], a3[TILE_COLS];
    for (int j = 0; j < TILE_COLS; j++) a0[j] = a1[j] = a2[j] = a3[j] = b ? b[c + j] : 0.0f;
    const float *x0 = x + r * (size_t)in, *x1 = x0 + in, *x2 = x1 + in, *x3 = x2 + in;
    for (int k = 0; k < in; k++) {
        const float *wk = wt + (size_t)k * (size_t)out + c;
        for (int j = 0; j < TILE_COLS; j++) {
            a0[j] += x0[k] * wk[j];
            a1[j] += x1[k] * wk[j];
            a2[j] += x2[k] * wk[j];
            a3[j] += x3[k] * wk[j];
        }
    }
    float *y0 = y + r * (size_t)out + c;
    memcpy(y0, a0, sizeof a0);
    memcpy(y0 + out, a1, sizeof a1);
    memcpy(y0 + 2 * out, a2, sizeof a2);
    memcpy(y0 + 3 * out, a3, sizeof a3);
}

/* An edge tile: nr rows, nc columns, one row at a time. */
GK_INLINE void edge_tile(const float *x, size_t r, size_t nr, int in, const float *wt,
                         const float *b, int out, int c, int nc, float *y) {
    for (size_t i = r; i < r + nr; i++) {
        float *yi = y + i * (size_t)out + c;
        for (int j = 0; j < nc; j++) yi[j] = b ? b[c + j] : 0.0f;
        for (int k = 0; k < in; k++) {
            const float xk = x[i * (size_t)in + (size_t)k];
            const float *wk = wt + (size_t)k * (size_t)out + c;
            for (int j = 0; j < nc; j++) yi[j] += xk * wk[j];
        }
    }
}

GK_INLINE float dot(const float *x, const float *w, int n) {
    float part[TILE_COLS] = {0};
    int k = 0;
    for (; k + TILE_COLS <= n; k += TILE_COLS)
        for (int j = 0; j < TILE_COLS; j++) part[j] += x[k + j] * w[k + j];
    float s = 0.0f;
    for (int j = 0; j < TILE_COLS; j++) s += part[j];
    for (; k < n; k++) s += x[k] * w[k];
    return s;
}

GK_OPS_PER_ISA
void gk_gemm_rows(const float *x, size_t rows, int in, const float *wt,
                  const float *b, int out, float *y) {
    if (out == 1) {
        float bias = b ? b[0] : 0.0f;
        for (size_t r = 0; r < rows; r++) y[r] = dot(x + r * (size_t)in, wt, in) + bias;
        return;
    }
    int full_cols = out / TILE_COLS * TILE_COLS;
    size_t full_rows = rows / TILE_ROWS * TILE_ROWS;
    for (size_t r = 0; r < full_rows; r += TILE_ROWS) {
        for (int c = 0; c < full_cols; c += TILE_COLS) full_tile(x, r, in, wt, b, out, c, y);
        if (full_cols < out) edge_tile(x, r, TILE_ROWS, in, wt, b, out, full_cols,
                                       out - full_cols, y);
    }
    if (full_rows < rows) edge_tile(x, full_rows, rows - full_rows, in, wt, b, out, 0, out, y);
}

/* The ops fused into this one, in model order, while y is in cache: a
 * residual add, a per-channel scale and shift (BatchNorm), activations. */
void gk_linear_epilogue(const gk_op_ctx *ctx, size_t rows, size_t width) {
    float *y = ctx->out[0];
    for (int k = 0; k < ctx->num_fused; k++) {
        const gk_op *f = ctx->fused[k];
        if (f->kind == GK_OP_ADD) {
            const float *r = ctx->fused_operand[k];
            for (size_t i = 0; i < rows * width; i++) y[i] += r[i];
        } else if (f->kind == GK_OP_SCALE_SHIFT) {
            const float *scale = f->tensors[0], *shift = f->tensors[1];
            for (size_t i = 0; i < rows; i++)
                for (size_t c = 0; c < width; c++)
                    y[i * width + c] = y[i * width + c] * scale[c] + shift[c];
        } else {
            gk_op_ctx act = *ctx;
            act.op = f;
            act.num_inputs = 1;
            act.in[0] = y;
            gk_run_unary(&act);
        }
    }
}

void gk_run_linear(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    size_t rows = 1;
    for (int d = 0; d + 1 < ctx->in_ndim[0]; d++) rows *= (size_t)ctx->in_dims[0][d];
    gk_gemm_rows(ctx->in[0], rows, op->in_features, op->tensors[0], op->tensors[1],
                 op->out_features, ctx->out[0]);
    if (ctx->num_fused) gk_linear_epilogue(ctx, rows, (size_t)op->out_features);
}
