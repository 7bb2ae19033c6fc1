/* LSTM and GRU (PyTorch's gate order and equations: LSTM i, f, g, o; GRU
 * r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))), multi-layer,
 * batch_first or not, zero initial state; and the single-step cells.
 * The input products of every time step are one gk_gemm_rows call per
 * layer; each step then adds h · W_hh^T. */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "ops_math.h"


/* One row of one step: input gates gx (with b_ih) and hidden gates gh (with
 * b_hh), each [gates, hs] -> new h (and c). restrict and one pointer per
 * gate let the loop vectorize. */
static inline __attribute__((always_inline)) void lstm_row(
    const float *restrict xi, const float *restrict xf, const float *restrict xg,
    const float *restrict xo, const float *restrict hi, const float *restrict hf,
    const float *restrict hg, const float *restrict ho, int hs, float *restrict h,
    float *restrict c) {
    for (int k = 0; k < hs; k++) {
        float i = gk_sigmoidf(xi[k] + hi[k]);
        float f = gk_sigmoidf(xf[k] + hf[k]);
        float g = gk_tanhf(xg[k] + hg[k]);
        float o = gk_sigmoidf(xo[k] + ho[k]);
        float cn = f * c[k] + i * g;
        c[k] = cn;
        h[k] = o * gk_tanhf(cn);
    }
}

static inline __attribute__((always_inline)) void gru_row(
    const float *restrict xr, const float *restrict xz, const float *restrict xn,
    const float *restrict hr, const float *restrict hz, const float *restrict hn, int hs,
    float *restrict h) {
    for (int k = 0; k < hs; k++) {
        float r = gk_sigmoidf(xr[k] + hr[k]);
        float z = gk_sigmoidf(xz[k] + hz[k]);
        float n = gk_tanhf(xn[k] + r * hn[k]);
        h[k] = (1.0f - z) * n + z * h[k];
    }
}

GK_OPS_PER_ISA
static void lstm_step(const float *gx, size_t gx_stride, const float *gh, size_t b,
                      int hs, float *h, float *c) {
    for (size_t r = 0; r < b; r++) {
        const float *x = gx + r * gx_stride, *g = gh + r * 4 * (size_t)hs;
        lstm_row(x, x + hs, x + 2 * hs, x + 3 * hs, g, g + hs, g + 2 * hs, g + 3 * hs, hs,
                 h + r * (size_t)hs, c + r * (size_t)hs);
    }
}

GK_OPS_PER_ISA
static void gru_step(const float *gx, size_t gx_stride, const float *gh, size_t b,
                     int hs, float *h) {
    for (size_t r = 0; r < b; r++) {
        const float *x = gx + r * gx_stride, *g = gh + r * 3 * (size_t)hs;
        gru_row(x, x + hs, x + 2 * hs, g, g + hs, g + 2 * hs, hs, h + r * (size_t)hs);
    }
}

/* y[rows, out] = x · wt (+ b): on the generated kernel when the plan found
 * one (wt [in, out] with out a multiple of 16 is its w_fused, in its F_in),
 * else the loop. */
static void gate_product(gk_phase_fn kernel, const float *x, size_t rows, int in,
                         const float *wt, const float *b, int out, float *y) {
    if (!kernel) {
        gk_gemm_rows(x, rows, in, wt, b, out, y);
        return;
    }
    gk_layer layer;
    memset(&layer, 0, sizeof layer);
    layer.w_fused = (float *)wt;
    layer.b_fused = (float *)b;
    layer.info.in_channels = in;
    gk_layer_run run;
    memset(&run, 0, sizeof run);
    run.layer = &layer;
    run.x = x;
    run.t = y;
    run.t_stride = (size_t)out;
    kernel(&run, 0, rows);
}

/* One direction of one layer over the whole window: the input products of
 * every step at once, then step by step (backwards for dir 1), each step's
 * h written into the layer's output at column dir·hs. */
static void run_direction(const gk_op_ctx *ctx, int l, int dir, const float *input, int in,
                          float *out, float *gx, float *h, float *c, float *gh) {
    const gk_op *op = ctx->op;
    int lstm = op->kind == GK_OP_LSTM, hs = op->out_features, g = lstm ? 4 : 3;
    size_t gh_w = (size_t)g * (size_t)hs, width = (size_t)op->directions * (size_t)hs;
    size_t B = (size_t)ctx->in_dims[0][op->batch_first ? 0 : 1];
    size_t T = (size_t)ctx->in_dims[0][op->batch_first ? 1 : 0];
    float *const *w = (float *const *)&op->tensors[4 * (2 * l + dir)];
    gate_product(ctx->gemm, input, B * T, in, w[0], w[2], (int)gh_w, gx);
    memset(h, 0, B * (size_t)hs * sizeof *h);
    memset(c, 0, B * (size_t)hs * sizeof *c);
    for (size_t s = 0; s < T; s++) {
        size_t t = dir ? T - 1 - s : s;
        gate_product(ctx->gemm, h, B, hs, w[1], w[3], (int)gh_w, gh);
        /* rows of step t: b·T + t (batch_first) or t·B + b */
        size_t first = op->batch_first ? t : t * B, stride = op->batch_first ? T : 1;
        const float *gxt = gx + first * gh_w;
        if (lstm) lstm_step(gxt, stride * gh_w, gh, B, hs, h, c);
        else gru_step(gxt, stride * gh_w, gh, B, hs, h);
        for (size_t b = 0; b < B; b++)
            memcpy(out + (first + b * stride) * width + (size_t)dir * (size_t)hs,
                   h + b * (size_t)hs, (size_t)hs * sizeof *h);
    }
    size_t k = (size_t)(op->directions * l + dir);   /* h_n's row: layer-major */
    if (ctx->out[1]) memcpy(ctx->out[1] + k * B * (size_t)hs, h, B * (size_t)hs * sizeof *h);
    if (lstm && ctx->out[2])
        memcpy(ctx->out[2] + k * B * (size_t)hs, c, B * (size_t)hs * sizeof *c);
}

void gk_run_rnn(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int hs = op->out_features, g = op->kind == GK_OP_LSTM ? 4 : 3;
    size_t gh_w = (size_t)g * (size_t)hs, width = (size_t)op->directions * (size_t)hs;
    size_t B = (size_t)ctx->in_dims[0][op->batch_first ? 0 : 1];
    size_t bt = B * (size_t)ctx->in_dims[0][op->batch_first ? 1 : 0];
    float *gx = ctx->scratch, *seq[2] = {gx + bt * gh_w, gx + bt * gh_w + bt * width};
    float *h = seq[1] + bt * width, *c = h + B * (size_t)hs, *gh = c + B * (size_t)hs;
    const float *input = ctx->in[0];
    int in = op->in_features;
    for (int l = 0; l < op->rnn_layers; l++) {
        float *out = seq[l & 1];
        for (int dir = 0; dir < op->directions; dir++)
            run_direction(ctx, l, dir, input, in, out, gx, h, c, gh);
        input = out;
        in = (int)width;
    }
    if (ctx->out[0]) memcpy(ctx->out[0], input, bt * width * sizeof *input);
}

void gk_run_rnn_cell(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int lstm = op->kind == GK_OP_LSTM_CELL, hs = op->out_features, g = lstm ? 4 : 3;
    size_t gh_w = (size_t)g * (size_t)hs, B = (size_t)ctx->in_dims[0][0];
    float *gx = ctx->scratch, *h = gx + B * gh_w, *c = h + B * (size_t)hs;
    float *gh = c + B * (size_t)hs;
    size_t bytes = B * (size_t)hs * sizeof(float);
    if (ctx->num_inputs > 1) memcpy(h, ctx->in[1], bytes);
    else memset(h, 0, bytes);
    if (ctx->num_inputs > 2) memcpy(c, ctx->in[2], bytes);
    else memset(c, 0, bytes);
    gate_product(ctx->gemm, ctx->in[0], B, op->in_features, op->tensors[0],
                 op->tensors[2], (int)gh_w, gx);
    gate_product(ctx->gemm, h, B, hs, op->tensors[1], op->tensors[3], (int)gh_w, gh);
    if (lstm) lstm_step(gx, gh_w, gh, B, hs, h, c);
    else gru_step(gx, gh_w, gh, B, hs, h);
    if (ctx->out[0]) memcpy(ctx->out[0], h, bytes);
    if (lstm && ctx->out[1]) memcpy(ctx->out[1], c, bytes);
}
