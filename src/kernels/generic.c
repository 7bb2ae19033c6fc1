/* The generic path: serves every layer shape. The fused transform is
 * BLIS's sgemm micro-kernel on packed operands (blis_gemm.c); attention, softmax and aggregation are plain C that never
 * materializes per-edge messages (an online softmax over chunks of a row's
 * edges, one logit and one exp per edge and head). */
#include <math.h>
#include <string.h>

#include "blis_gemm.h"
#include "kernels.h"
#include "per_isa.h"
#include "registry.h"

/* t[begin:end, :cols] = x[begin:end, :] · w_fused (+ b_fused), one thread:
 * BLIS's micro-kernel on the plan's packed weights (blis_gemm.h). */
void gk_generic_transform(const gk_layer_run *run, size_t begin, size_t end) {
    const gk_layer *layer = run->layer;
    if (end <= begin) return;
    size_t k = (size_t)layer->info.in_channels;
    float *t = run->t + begin * run->t_stride;
    gk_blis_transform(run->blis, run->packed, run->x + begin * k, end - begin, t,
                      run->t_stride, run->pack_scratch);
    if (layer->b_fused)
        for (size_t i = 0; i < end - begin; i++)
            for (int c = 0; c < layer->cols; c++)
                t[i * run->t_stride + (size_t)c] += layer->b_fused[c];
}

const void *gk_generic_blas_context(void) {
    gk_blis_kernel kernel;
    gk_blis_kernel_init(&kernel);
    return kernel.cntx;
}


/* The generic aggregation is built once per ISA (per_isa.h): its chunk
 * loops are written to vectorize. */

/* exp(x) for x <= 0, in arithmetic only so that a loop of it vectorizes:
 * the degree-6 polynomial of the SIMD kernels (templates/isa/avx512.h.j2),
 * rounding by the 1.5·2^23 trick, 2^n by the exponent bits; x below -87
 * gives exp(-87) = 1.6e-38 (a weight that no sum notices); NaN gives NaN. */
static inline float exp_nonpositive(float x) {
    x = x < -87.0f ? -87.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.384365256e-3f;
    p = p * r + 8.374155499e-3f;
    p = p * r + 4.166800156e-2f;
    p = p * r + 1.666643173e-1f;
    p = p * r + 4.999999404e-1f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    float n_ok = n == n ? n : 0.0f;  /* NaN stays in p; no NaN-to-int cast */
    int32_t bits = ((int32_t)n_ok + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

enum { CHUNK = 64 };  /* logits held at once: rows of any degree, fixed scratch */

/* Logits of edges [first, first + n) for head h into l[n]; returns their max. */
static inline float chunk_logits(const gk_layer_run *run, const float *t_i, int32_t first,
                                 int n, int h, float *l) {
    const gk_layer *L = run->layer;
    const int32_t *src = run->view->src + first;
    float m = -INFINITY;
    if (L->info.type == GK_LAYER_GATV2) {
        /* channel by channel over the chunk's edges (a gather of x_l per
         * channel), so the edge loop vectorizes; per edge the sum runs over
         * the channels in order, as PyG's att · lrelu(x_i + x_j + e) */
        const int C = L->info.out_channels, HC = L->info.heads * C;
        const float *xl = run->t + (size_t)(L->col_h + h * C);
        const float *xr = t_i + L->col_xr + h * C, *att = L->att + h * C;
        const int D = run->edge_dim && L->edge_w ? run->edge_dim : 0;
        const float *attr = D ? run->view->attr + (size_t)first * (size_t)D : NULL;
        const float slope = L->info.negative_slope;
        const size_t ts = run->t_stride;
        float v[CHUNK];
        for (int k = 0; k < n; k++) l[k] = 0.0f;
        for (int c = 0; c < C; c++) {
            for (int k = 0; k < n; k++) v[k] = xl[(size_t)src[k] * ts + (size_t)c] + xr[c];
            for (int dd = 0; dd < D; dd++) {
                const float w = L->edge_w[dd * HC + h * C + c];
                for (int k = 0; k < n; k++) v[k] += attr[(size_t)k * (size_t)D + (size_t)dd] * w;
            }
            for (int k = 0; k < n; k++) l[k] += att[c] * (v[k] > 0.0f ? v[k] : v[k] * slope);
        }
    } else {  /* GATConv: a gather, an add and the edge term, then lrelu */
        const float *s_src = run->t + (size_t)(L->col_src + h);
        const float d = t_i[L->col_dst + h], slope = L->info.negative_slope;
        const size_t ts = run->t_stride;
        for (int k = 0; k < n; k++) l[k] = s_src[(size_t)src[k] * ts] + d;
        const int D = L->edge_w && run->view->attr ? run->edge_dim : 0;
        const float *attr = D ? run->view->attr + (size_t)first * (size_t)D : NULL;
        for (int dd = 0; dd < D; dd++) {
            const float w = L->edge_w[dd * L->info.heads + h];
            for (int k = 0; k < n; k++) l[k] += attr[(size_t)k * (size_t)D + (size_t)dd] * w;
        }
        for (int k = 0; k < n; k++) l[k] = l[k] > 0.0f ? l[k] : l[k] * slope;
    }
    float lane_max[16];  /* 16 running maxima: a select per lane vectorizes, */
    for (int q = 0; q < 16; q++) lane_max[q] = -INFINITY;  /* a reduction not */
    int k = 0;
    for (; k + 16 <= n; k += 16)
        for (int q = 0; q < 16; q++)
            lane_max[q] = l[k + q] > lane_max[q] ? l[k + q] : lane_max[q];
    for (; k < n; k++) lane_max[0] = l[k] > lane_max[0] ? l[k] : lane_max[0];
    for (int q = 0; q < 16; q++) m = lane_max[q] > m ? lane_max[q] : m;  /* NaN: never */
    return m;
}

/* One head of one target row: out[C] = Σ softmax(logit) · h_j. The softmax
 * runs online over chunks of edges (rescaling when the running max grows),
 * so each logit is computed once whatever the row's degree. Four edges per
 * pass over out[]: a quarter of the round trips through memory. */
GK_PER_ISA static void aggregate_head(const gk_layer_run *run, size_t i, int h,
                                      float *out) {
    const gk_layer *L = run->layer;
    const gk_graph_view *v = run->view;
    int C = L->info.out_channels, H = L->info.heads;
    const size_t ts = run->t_stride;
    const float *t_i = run->t + i * ts;
    const float *h_base = run->t + (size_t)(L->col_h + h * C);
    int32_t first = v->row_ptr[i], last = v->row_ptr[i + 1];
    float l[CHUNK], m = -INFINITY, sum = 0.0f;
    memset(out, 0, (size_t)C * sizeof *out);
    if (first == last) return;

    for (int32_t base = first; base < last; base += CHUNK) {
        int n = last - base < CHUNK ? (int)(last - base) : CHUNK;
        float chunk_max = chunk_logits(run, t_i, base, n, h, l);
        if (chunk_max > m) {
            float rescale = expf(m - chunk_max);  /* 0 on the first chunk */
            sum *= rescale;
            for (int c = 0; c < C; c++) out[c] *= rescale;
            m = chunk_max;
        }
        for (int k = 0; k < n; k++) l[k] = exp_nonpositive(l[k] - m);
        for (int k = 0; k < n; k++) sum += l[k];
        const int32_t *src = v->src + base;
        int k = 0;
        for (; k + 4 <= n; k += 4) {
            const float *h0 = h_base + (size_t)src[k] * ts, *h1 = h_base + (size_t)src[k + 1] * ts;
            const float *h2 = h_base + (size_t)src[k + 2] * ts, *h3 = h_base + (size_t)src[k + 3] * ts;
            const float w0 = l[k], w1 = l[k + 1], w2 = l[k + 2], w3 = l[k + 3];
            for (int c = 0; c < C; c++)
                out[c] += (w0 * h0[c] + w1 * h1[c]) + (w2 * h2[c] + w3 * h3[c]);
        }
        for (; k < n; k++) {
            const float *h_j = h_base + (size_t)src[k] * ts;
            for (int c = 0; c < C; c++) out[c] += l[k] * h_j[c];
        }
    }
    float inv = 1.0f / (sum + 1e-16f);  /* PyG's softmax denominator guard */
    for (int c = 0; c < C; c++) out[c] *= inv;
    if (!run->alpha) return;
    for (int32_t base = first; base < last; base += CHUNK) {
        int n = last - base < CHUNK ? (int)(last - base) : CHUNK;
        chunk_logits(run, t_i, base, n, h, l);
        for (int k = 0; k < n; k++)
            run->alpha[(size_t)(base + k) * (size_t)H + (size_t)h] = exp_nonpositive(l[k] - m) * inv;
    }
}

void gk_generic_aggregate(const gk_layer_run *run, size_t begin, size_t end) {
    const gk_layer *L = run->layer;
    int C = L->info.out_channels, H = L->info.heads;
    float *out = run->row_scratch;  /* [H·C] */
    for (size_t i = begin; i < end; i++) {
        for (int h = 0; h < H; h++) aggregate_head(run, i, h, out + h * C);
        gk_epilogue_row(L, out, run->t + i * run->t_stride,
                        run->y + i * (size_t)L->info.out_width);
    }
}

static inline float activate(float v, gk_activation act) {
    switch (act) {
    case GK_ACT_ELU: return v > 0.0f ? v : expm1f(v);
    case GK_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case GK_ACT_LEAKY_RELU: return v > 0.0f ? v : 0.01f * v;
    case GK_ACT_NONE: break;
    }
    return v;
}

void gk_epilogue_row(const gk_layer *L, const float *out, const float *t_row,
                     float *y_row) {
    int C = L->info.out_channels, H = L->info.heads, W = L->info.out_width;
    for (int k = 0; k < W; k++) {
        float v;
        if (L->info.concat) {
            v = out[k];
        } else {
            v = 0.0f;
            for (int h = 0; h < H; h++) v += out[h * C + k];
            v /= (float)H;
        }
        if (L->col_res >= 0) v += t_row[L->col_res + k];
        if (L->bias) v += L->bias[k];
        y_row[k] = activate(v, L->info.activation);
    }
}

const gk_layer_kernels gk_generic_kernels = {
    .name = "generic",
    .transform = gk_generic_transform,
    .prepare = NULL,
    .aggregate = gk_generic_aggregate,
    .complete_name = NULL,
    .complete_prepare = NULL,
    .complete_aggregate = NULL,
};

/* ---- scratch every kernel may count on (plan allocates the max) ---------- */

size_t gk_node_scratch_floats(const gk_layer *L, size_t max_nodes) {
    size_t hc = (size_t)L->info.heads * (size_t)L->info.out_channels;
    return max_nodes * ((size_t)L->info.heads * 8 + 2 * hc + 16) + 64;
}

size_t gk_node_scratch_ints(const gk_layer *L, size_t max_nodes) {
    return max_nodes * ((size_t)L->info.heads + 1) + 64;
}

size_t gk_row_scratch_floats(const gk_layer *L, size_t max_nodes, size_t max_edges) {
    size_t hc = (size_t)L->info.heads * (size_t)L->info.out_channels;
    size_t floats = (4 + GK_ROW_BLOCK) * hc + 16 * (size_t)L->info.heads + 64;
    if (L->info.edge_dim > 0) {
        /* a complete graph on n nodes has n(n - 1) input edges: n is at
         * most sqrt(max_edges) + 1 */
        size_t n = 1;
        while (n < max_nodes && (n - 1) * n < max_edges) n++;
        floats += GK_TILE_FLOATS_PER_NODE * (n + 16);
    }
    return floats;
}
