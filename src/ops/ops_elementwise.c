/* Elementwise ops: activations, scalar arithmetic, clamp, and binary ops
 * with PyTorch's broadcasting. Float32 in and out, as PyTorch computes
 * them (expm1 for ELU, erf for GELU, log1p for softplus); NaN propagates
 * through clamp, maximum and minimum as in PyTorch. */
#include <math.h>
#include <string.h>

#include "ops.h"
#include "ops_math.h"

static size_t count_of(const gk_op_ctx *ctx) {
    size_t n = 1;
    for (int d = 0; d < ctx->out_ndim[0]; d++) n *= (size_t)ctx->out_dims[0][d];
    return n;
}


static inline __attribute__((always_inline)) float gelu(float x, int tanh_form) {
    if (tanh_form) {
        const float k = 0.7978845608028654f;  /* sqrt(2/pi) */
        return 0.5f * x * (1.0f + gk_tanhf(k * (x + 0.044715f * x * x * x)));
    }
    return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
}

static float softplus(float x, float beta, float threshold) {
    return x * beta > threshold ? x : log1pf(expf(x * beta)) / beta;
}

static float clampf(float x, const gk_op *op) {
    if (x != x) return x;
    if (op->has_lo && x < op->lo) x = op->lo;
    if (op->has_hi && x > op->hi) x = op->hi;
    return x;
}

static float power(float x, float p) {
    if (p == 2.0f) return x * x;
    if (p == 1.0f) return x;
    if (p == 0.5f) return sqrtf(x);
    return powf(x, p);
}

static float scalar(float x, const gk_op *op) {
    float c = op->value;
    switch (op->fn) {
    case GK_SC_ADD: return x + c;
    case GK_SC_SUB: return x - c;
    case GK_SC_RSUB: return c - x;
    case GK_SC_MUL: return x * c;
    case GK_SC_DIV: return x / c;
    case GK_SC_RDIV: return c / x;
    case GK_SC_POW: return power(x, c);
    case GK_SC_EQ: return x == c ? 1.0f : 0.0f;
    case GK_SC_NE: return x != c ? 1.0f : 0.0f;
    case GK_SC_LT: return x < c ? 1.0f : 0.0f;
    case GK_SC_LE: return x <= c ? 1.0f : 0.0f;
    case GK_SC_GT: return x > c ? 1.0f : 0.0f;
    case GK_SC_GE: return x >= c ? 1.0f : 0.0f;
    }
    return x;
}

GK_OPS_PER_ISA
void gk_run_unary(const gk_op_ctx *ctx) {
    const gk_op *op = ctx->op;
    const float *x = ctx->in[0];
    float *y = ctx->out[0];
    size_t n = count_of(ctx);
    const float alpha = op->alpha;   /* a local: y may alias *op as far as C knows */
    switch (op->kind) {
    case GK_OP_RELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : (x[i] != x[i] ? x[i] : 0.0f);
        break;
    case GK_OP_ELU:
        for (size_t i = 0; i < n; i++) {  /* both sides, then a select: vectorizes */
            float v = x[i], neg = alpha * gk_expm1f(v);
            y[i] = v > 0.0f ? v : neg;
        }
        break;
    case GK_OP_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) {
            float v = x[i], neg = v * alpha;
            y[i] = v > 0.0f ? v : neg;
        }
        break;
    case GK_OP_GELU:
        for (size_t i = 0; i < n; i++) y[i] = gelu(x[i], op->approximate);
        break;
    case GK_OP_SILU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] * gk_sigmoidf(x[i]);
        break;
    case GK_OP_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = gk_sigmoidf(x[i]);
        break;
    case GK_OP_TANH:
        for (size_t i = 0; i < n; i++) y[i] = gk_tanhf(x[i]);
        break;
    case GK_OP_SOFTPLUS:
        for (size_t i = 0; i < n; i++) y[i] = softplus(x[i], op->beta, op->threshold);
        break;
    case GK_OP_EXP:
        for (size_t i = 0; i < n; i++) y[i] = expf(x[i]);
        break;
    case GK_OP_LOG:
        for (size_t i = 0; i < n; i++) y[i] = logf(x[i]);
        break;
    case GK_OP_ABS:
        for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]);
        break;
    case GK_OP_SQRT:
        for (size_t i = 0; i < n; i++) y[i] = sqrtf(x[i]);
        break;
    case GK_OP_RSQRT:
        for (size_t i = 0; i < n; i++) y[i] = 1.0f / sqrtf(x[i]);
        break;
    case GK_OP_CLAMP:
        for (size_t i = 0; i < n; i++) y[i] = clampf(x[i], op);
        break;
    case GK_OP_SCALAR:
        for (size_t i = 0; i < n; i++) y[i] = scalar(x[i], op);
        break;
    case GK_OP_NOT:
        for (size_t i = 0; i < n; i++) y[i] = x[i] == 0.0f ? 1.0f : 0.0f;
        break;
    default:
        break;
    }
}

static float binary(gk_op_kind kind, float a, float b) {
    switch (kind) {
    case GK_OP_ADD: return a + b;
    case GK_OP_SUB: return a - b;
    case GK_OP_MUL: return a * b;
    case GK_OP_DIV: return a / b;
    case GK_OP_POW: return power(a, b);
    case GK_OP_MAXIMUM: return (a != a || b != b) ? a + b : (a > b ? a : b);
    case GK_OP_MINIMUM: return (a != a || b != b) ? a + b : (a < b ? a : b);
    case GK_OP_EQ: return a == b ? 1.0f : 0.0f;
    case GK_OP_NE: return a != b ? 1.0f : 0.0f;
    case GK_OP_LT: return a < b ? 1.0f : 0.0f;
    case GK_OP_LE: return a <= b ? 1.0f : 0.0f;
    case GK_OP_GT: return a > b ? 1.0f : 0.0f;
    case GK_OP_GE: return a >= b ? 1.0f : 0.0f;
    case GK_OP_MASKED_FILL: return b != 0.0f ? 0.0f : a;   /* value: gk_run_binary */
    default: return 0.0f;
    }
}

/* Strides of input i over the 4-dim padded output (0 where broadcast). */
static void broadcast_strides(const gk_op_ctx *ctx, int i, int64_t out[4],
                              int64_t strides[4]) {
    int nd = ctx->out_ndim[0], ni = ctx->in_ndim[i];
    int64_t in[4] = {1, 1, 1, 1};
    for (int d = 0; d < 4; d++) out[d] = 1;
    for (int d = 0; d < nd; d++) out[4 - nd + d] = ctx->out_dims[0][d];
    for (int d = 0; d < ni; d++) in[4 - ni + d] = ctx->in_dims[i][d];
    int64_t s = 1;
    for (int d = 3; d >= 0; d--) {
        strides[d] = in[d] == 1 ? 0 : s;
        s *= in[d];
    }
}

void gk_run_binary(const gk_op_ctx *ctx) {
    int64_t dims[4], sa[4], sb[4];
    broadcast_strides(ctx, 0, dims, sa);
    broadcast_strides(ctx, 1, dims, sb);
    const float *a = ctx->in[0], *b = ctx->in[1];
    float *y = ctx->out[0];
    gk_op_kind kind = ctx->op->kind;
    for (int64_t i0 = 0; i0 < dims[0]; i0++)
        for (int64_t i1 = 0; i1 < dims[1]; i1++)
            for (int64_t i2 = 0; i2 < dims[2]; i2++) {
                const float *pa = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                const float *pb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                int64_t n = dims[3];
                if (kind == GK_OP_ADD && sa[3] && sb[3]) {
                    for (int64_t k = 0; k < n; k++) y[k] = pa[k] + pb[k];
                } else if (kind == GK_OP_MUL && sa[3] && sb[3]) {
                    for (int64_t k = 0; k < n; k++) y[k] = pa[k] * pb[k];
                } else {
                    for (int64_t k = 0; k < n; k++)
                        y[k] = binary(kind, pa[k * sa[3]], pb[k * sb[3]]);
                }
                y += n;
            }
}

/* masked_fill(x, mask, value): value where mask != 0, else x (broadcast). */
void gk_run_masked_fill(const gk_op_ctx *ctx) {
    int64_t dims[4], sx[4], sm[4];
    broadcast_strides(ctx, 0, dims, sx);
    broadcast_strides(ctx, 1, dims, sm);
    const float v = ctx->op->value;
    float *y = ctx->out[0];
    for (int64_t i0 = 0; i0 < dims[0]; i0++)
        for (int64_t i1 = 0; i1 < dims[1]; i1++)
            for (int64_t i2 = 0; i2 < dims[2]; i2++) {
                const float *px = ctx->in[0] + i0 * sx[0] + i1 * sx[1] + i2 * sx[2];
                const float *pm = ctx->in[1] + i0 * sm[0] + i1 * sm[1] + i2 * sm[2];
                for (int64_t k = 0; k < dims[3]; k++)
                    *y++ = pm[k * sm[3]] != 0.0f ? v : px[k * sx[3]];
            }
}

/* where(cond, a, b): a where cond != 0, else b, all three broadcast. */
void gk_run_where(const gk_op_ctx *ctx) {
    int64_t dims[4], sc[4], sa[4], sb[4];
    broadcast_strides(ctx, 0, dims, sc);
    broadcast_strides(ctx, 1, dims, sa);
    broadcast_strides(ctx, 2, dims, sb);
    float *y = ctx->out[0];
    for (int64_t i0 = 0; i0 < dims[0]; i0++)
        for (int64_t i1 = 0; i1 < dims[1]; i1++)
            for (int64_t i2 = 0; i2 < dims[2]; i2++) {
                const float *pc = ctx->in[0] + i0 * sc[0] + i1 * sc[1] + i2 * sc[2];
                const float *pa = ctx->in[1] + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
                const float *pb = ctx->in[2] + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
                for (int64_t k = 0; k < dims[3]; k++)
                    *y++ = pc[k * sc[3]] != 0.0f ? pa[k * sa[3]] : pb[k * sb[3]];
            }
}

void gk_run_constant(const gk_op_ctx *ctx) {
    memcpy(ctx->out[0], ctx->op->tensors[0], ctx->op->tensor_len[0] * sizeof(float));
}
