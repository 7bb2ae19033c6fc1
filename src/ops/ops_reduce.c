/* Reductions (sum, mean, max, min, var and std over any dims, global
 * pooling over the node axis) and softmax / log_softmax over any axis, the
 * node axis included. Sums are kept in double: the result is the float32
 * rounding of a sum closer to the float64 reference than float32
 * accumulation is. The common shapes take loops that vectorize: pooling
 * over the leading axis runs along rows (double accumulators in the op's
 * scratch), softmax over the last axis along one row. */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "ops_math.h"

/* sum/mean/max/min over axis 0 of [rows, inner]: row by row into inner
 * accumulators, so the inner loop runs along contiguous memory. */
GK_OPS_PER_ISA
static void pool_rows(const gk_op_ctx *ctx, size_t rows, size_t inner) {
    const float *x = ctx->in[0];
    float *y = ctx->out[0];
    gk_op_kind kind = ctx->op->kind;
    if (kind == GK_OP_MAX || kind == GK_OP_MIN) {
        int is_max = kind == GK_OP_MAX;
        for (size_t c = 0; c < inner; c++) y[c] = x[c];
        for (size_t r = 1; r < rows; r++) {
            const float *xr = x + r * inner;
            for (size_t c = 0; c < inner; c++) {   /* NaN wins, as in PyTorch */
                float v = xr[c], o = y[c];
                int take = v != v || (o == o && (is_max ? v > o : v < o));
                y[c] = take ? v : o;
            }
        }
        return;
    }
    double *acc = (double *)(void *)ctx->scratch;
    for (size_t c = 0; c < inner; c++) acc[c] = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * inner;
        for (size_t c = 0; c < inner; c++) acc[c] += (double)xr[c];
    }
    double scale = kind == GK_OP_MEAN ? 1.0 / (double)rows : 1.0;
    for (size_t c = 0; c < inner; c++) y[c] = (float)(acc[c] * scale);
}

static void pad4(int ndim, const int64_t *dims, int64_t out[4]) {
    for (int d = 0; d < 4; d++) out[d] = 1;
    for (int d = 0; d < ndim; d++) out[4 - ndim + d] = dims[d];
}

void gk_run_reduce(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int nd = ctx->in_ndim[0];
    int64_t dims[4], ost[4], s = 1;
    pad4(nd, ctx->in_dims[0], dims);
    unsigned mask = op->reduce_dims << (4 - nd);
    size_t out_count = 1, group = 1;
    for (int d = 3; d >= 0; d--) {
        int reduced = (mask >> d) & 1u;
        ost[d] = reduced ? 0 : s;
        if (!reduced) s *= dims[d];
        if (reduced) group *= (size_t)dims[d];
        else out_count *= (size_t)dims[d];
    }
    if (mask == (1u << (4 - nd)) && op->kind != GK_OP_VAR && op->kind != GK_OP_STD &&
        dims[4 - nd] > 0) {   /* over the leading axis only: global pooling */
        pool_rows(ctx, (size_t)dims[4 - nd], out_count);
        return;
    }
    float *y = ctx->out[0];
    const float *x = ctx->in[0];
    int is_max = op->kind == GK_OP_MAX, is_min = op->kind == GK_OP_MIN;
    if (is_max || is_min) {
        for (size_t i = 0; i < out_count; i++) y[i] = is_max ? -INFINITY : INFINITY;
        for (int64_t a = 0; a < dims[0]; a++)
            for (int64_t b = 0; b < dims[1]; b++)
                for (int64_t c = 0; c < dims[2]; c++)
                    for (int64_t e = 0; e < dims[3]; e++) {
                        float v = *x++;
                        float *o = &y[a * ost[0] + b * ost[1] + c * ost[2] + e * ost[3]];
                        if (v != v || (*o == *o && (is_max ? v > *o : v < *o))) *o = v;
                    }
        return;
    }
    /* sum / mean: one output at a time, its group gathered in double */
    int64_t rdims[4], rst[4], ist[4];
    s = 1;
    for (int d = 3; d >= 0; d--) {
        ist[d] = s;
        s *= dims[d];
    }
    for (int d = 0; d < 4; d++) {
        int reduced = (mask >> d) & 1u;
        rdims[d] = reduced ? dims[d] : 1;
        rst[d] = ist[d];
    }
    int64_t odims[4];
    for (int d = 0; d < 4; d++) odims[d] = ((mask >> d) & 1u) ? 1 : dims[d];
    for (int64_t a = 0; a < odims[0]; a++)
        for (int64_t b = 0; b < odims[1]; b++)
            for (int64_t c = 0; c < odims[2]; c++)
                for (int64_t e = 0; e < odims[3]; e++) {
                    const float *base = x + a * ist[0] + b * ist[1] + c * ist[2] + e * ist[3];
                    double acc = 0.0;
                    for (int64_t p = 0; p < rdims[0]; p++)
                        for (int64_t q = 0; q < rdims[1]; q++)
                            for (int64_t r = 0; r < rdims[2]; r++)
                                for (int64_t t = 0; t < rdims[3]; t++)
                                    acc += base[p * rst[0] + q * rst[1] + r * rst[2] +
                                                t * rst[3]];
                    if (op->kind != GK_OP_SUM) acc /= (double)group;
                    if (op->kind == GK_OP_VAR || op->kind == GK_OP_STD) {
                        double mean = acc, sq = 0.0;  /* second pass: sum of squares */
                        for (int64_t p = 0; p < rdims[0]; p++)
                            for (int64_t q = 0; q < rdims[1]; q++)
                                for (int64_t r = 0; r < rdims[2]; r++)
                                    for (int64_t t = 0; t < rdims[3]; t++) {
                                        double d = base[p * rst[0] + q * rst[1] +
                                                        r * rst[2] + t * rst[3]] - mean;
                                        sq += d * d;
                                    }
                        double n = (double)group - op->correction;  /* 0: NaN as PyTorch */
                        acc = n > 0 ? sq / n : (double)NAN;
                        if (op->kind == GK_OP_STD) acc = sqrt(acc);
                    }
                    *y++ = (float)acc;
                }
}

/* Softmax of one contiguous row: max and sum in 16 lanes, exp by the
 * polynomial of ops_math.h (a few ulp), the sum in double lanes. */
GK_OPS_PER_ISA
static void softmax_row(const float *x, float *y, size_t len, int log_form) {
    enum { L = 16 };
    float lane[L];
    for (int q = 0; q < L; q++) lane[q] = -INFINITY;
    size_t k = 0;
    for (; k + L <= len; k += L)
        for (int q = 0; q < L; q++) {
            float v = x[k + q];
            lane[q] = (v > lane[q] || v != v) ? v : lane[q];
        }
    float m = -INFINITY;
    for (int q = 0; q < L; q++) m = (lane[q] > m || lane[q] != lane[q]) ? lane[q] : m;
    for (; k < len; k++) m = (x[k] > m || x[k] != x[k]) ? x[k] : m;
    double part[L] = {0};
    for (k = 0; k + L <= len; k += L)
        for (int q = 0; q < L; q++) {
            float e = gk_expf(x[k + q] - m);
            if (!log_form) y[k + q] = e;
            part[q] += (double)e;
        }
    double sum = 0.0;
    for (int q = 0; q < L; q++) sum += part[q];
    for (; k < len; k++) {
        float e = gk_expf(x[k] - m);
        if (!log_form) y[k] = e;
        sum += (double)e;
    }
    if (log_form) {
        float shift = m + (float)log(sum);
        for (k = 0; k < len; k++) y[k] = x[k] - shift;
    } else {
        float inv = (float)(1.0 / sum);
        for (k = 0; k < len; k++) y[k] *= inv;
    }
}

void gk_run_softmax(const gk_op_ctx *ctx) {
    int nd = ctx->in_ndim[0], d = ctx->op->dim;
    size_t outer = 1, inner = 1, len = (size_t)ctx->in_dims[0][d];
    for (int k = 0; k < d; k++) outer *= (size_t)ctx->in_dims[0][k];
    for (int k = d + 1; k < nd; k++) inner *= (size_t)ctx->in_dims[0][k];
    int log_form = ctx->op->kind == GK_OP_LOG_SOFTMAX;
    if (inner == 1) {   /* along contiguous rows */
        for (size_t o = 0; o < outer; o++)
            softmax_row(ctx->in[0] + o * len, ctx->out[0] + o * len, len, log_form);
        return;
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *x = ctx->in[0] + o * len * inner + i;
            float *y = ctx->out[0] + o * len * inner + i;
            float m = -INFINITY;
            for (size_t k = 0; k < len; k++)
                if (x[k * inner] > m || x[k * inner] != x[k * inner]) m = x[k * inner];
            double sum = 0.0;
            for (size_t k = 0; k < len; k++) sum += exp((double)x[k * inner] - m);
            if (log_form) {
                double lse = log(sum);
                for (size_t k = 0; k < len; k++)
                    y[k * inner] = (float)((double)x[k * inner] - m - lse);
            } else {
                double inv = 1.0 / sum;
                for (size_t k = 0; k < len; k++)
                    y[k * inner] = (float)(exp((double)x[k * inner] - m) * inv);
            }
        }
}
