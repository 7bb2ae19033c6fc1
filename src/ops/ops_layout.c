/* Ops that move data without arithmetic: reshape (a copy; the plan aliases
 * it when it can), slice, concat, permute, expand, and embedding lookups. */
#include <stdint.h>
#include <string.h>

#include "ops.h"

static size_t count(int ndim, const int64_t *dims) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)dims[d];
    return n;
}

/* Rows of the table by index; gk_infer_named checked every index. */
void gk_run_embedding(const gk_op_ctx *ctx) {
    size_t n = count(ctx->in_ndim[0], ctx->in_dims[0]);
    size_t d = (size_t)ctx->op->out_features;
    const float *table = ctx->op->tensors[0];
    for (size_t i = 0; i < n; i++) {
        int64_t row = ctx->in_int32 ? ((const int32_t *)(const void *)ctx->in[0])[i]
                                    : ((const int64_t *)(const void *)ctx->in[0])[i];
        memcpy(ctx->out[0] + i * d, table + (size_t)row * d, d * sizeof(float));
    }
}

void gk_run_copy(const gk_op_ctx *ctx) {
    if (ctx->out[0] != ctx->in[0])
        memmove(ctx->out[0], ctx->in[0],
                count(ctx->out_ndim[0], ctx->out_dims[0]) * sizeof(float));
}

/* outer · size(dim) · inner decomposition of a shape around dim. */
static void around(int ndim, const int64_t *dims, int dim, size_t *outer, size_t *inner) {
    *outer = count(dim, dims);
    *inner = count(ndim - dim - 1, dims + dim + 1);
}

void gk_run_slice(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    int d = op->dim;
    int64_t size = ctx->in_dims[0][d];
    int64_t start = op->start < 0 ? op->start + size : op->start;
    if (start < 0) start = 0;
    size_t outer, inner;
    around(ctx->in_ndim[0], ctx->in_dims[0], d, &outer, &inner);
    int64_t len = ctx->out_dims[0][d];
    const float *x = ctx->in[0];
    float *y = ctx->out[0];
    for (size_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < len; k++)
            memcpy(y + (o * (size_t)len + (size_t)k) * inner,
                   x + (o * (size_t)size + (size_t)(start + k * op->step)) * inner,
                   inner * sizeof(float));
}

void gk_run_concat(const gk_op_ctx *ctx) {
    int d = ctx->op->dim;
    size_t outer, inner;
    around(ctx->out_ndim[0], ctx->out_dims[0], d, &outer, &inner);
    size_t row = (size_t)ctx->out_dims[0][d] * inner;
    size_t at = 0;
    for (int i = 0; i < ctx->num_inputs; i++) {
        size_t part = (size_t)ctx->in_dims[i][d] * inner;
        for (size_t o = 0; o < outer; o++)
            memcpy(ctx->out[0] + o * row + at, ctx->in[i] + o * part, part * sizeof(float));
        at += part;
    }
}

/* y = the elements of x at offsets a·st0 + b·st1 + c·st2 + e·st3, in order:
 * a permutation or a broadcast (stride 0) of x as a 4-dim walk. */
static void strided_copy(const float *x, const int64_t dims[4], const int64_t st[4],
                         float *y) {
    for (int64_t a = 0; a < dims[0]; a++)
        for (int64_t b = 0; b < dims[1]; b++)
            for (int64_t c = 0; c < dims[2]; c++)
                for (int64_t e = 0; e < dims[3]; e++)
                    *y++ = x[a * st[0] + b * st[1] + c * st[2] + e * st[3]];
}

void gk_run_permute(const gk_op_ctx *ctx) {
    int nd = ctx->in_ndim[0];
    int64_t in_strides[GK_MAX_RANK], s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        in_strides[d] = s;
        s *= ctx->in_dims[0][d];
    }
    int64_t dims[4] = {1, 1, 1, 1}, st[4] = {0, 0, 0, 0};
    for (int d = 0; d < nd; d++) {
        dims[4 - nd + d] = ctx->out_dims[0][d];
        st[4 - nd + d] = in_strides[ctx->op->perm[d]];
    }
    strided_copy(ctx->in[0], dims, st, ctx->out[0]);
}

void gk_run_expand(const gk_op_ctx *ctx) {
    int nd = ctx->out_ndim[0], ni = ctx->in_ndim[0];
    int64_t dims[4] = {1, 1, 1, 1}, in[4] = {1, 1, 1, 1}, st[4];
    for (int d = 0; d < nd; d++) dims[4 - nd + d] = ctx->out_dims[0][d];
    for (int d = 0; d < ni; d++) in[4 - ni + d] = ctx->in_dims[0][d];
    int64_t s = 1;
    for (int d = 3; d >= 0; d--) {
        st[d] = in[d] == 1 ? 0 : s;
        s *= in[d];
    }
    strided_copy(ctx->in[0], dims, st, ctx->out[0]);
}
