/* Shared by the generated-kernel testers (test_kernels_*.c): hand-built GAT
 * layers and CSR views, and an independent float64 reference of one layer's
 * aggregation (logits, softmax over incoming edges, concat/mean, residual,
 * bias, activation), written from docs/architecture.md ("Semantics"), not
 * from the kernels. */
#ifndef GK_KERNEL_HARNESS_H
#define GK_KERNEL_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "registry.h"
#include "select.h"

static unsigned long long kh_state = 88172645463325252ull;
static inline float kh_rand(void) {  /* uniform in [-1, 1) */
    kh_state ^= kh_state << 13;
    kh_state ^= kh_state >> 7;
    kh_state ^= kh_state << 17;
    return (float)((kh_state >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

typedef struct kh_case {
    gk_layer L;
    gk_graph_view v;
    size_t n, ts;
    int D;
    float *x, *t, *y, *alpha, *ns_f, *rs;
    int32_t *ns_i;
} kh_case;

/* A GAT layer with the standard fused layout and random weights; `scale`
 * multiplies the score columns (large values stress the softmax). */
static inline void kh_layer(kh_case *k, int F, int H, int C, int D, int concat,
                     int residual, gk_activation act, float ns, float scale) {
    gk_layer *L = &k->L;
    memset(L, 0, sizeof *L);
    L->info.type = GK_LAYER_GAT;
    L->info.in_channels = F;
    L->info.out_channels = C;
    L->info.heads = H;
    L->info.concat = concat;
    L->info.negative_slope = ns;
    L->info.edge_dim = D;
    L->info.residual = residual;
    L->info.activation = act;
    L->info.out_width = concat ? H * C : C;
    L->col_h = 0;
    L->col_src = H * C;
    L->col_dst = H * C + H;
    L->col_res = residual ? H * C + 2 * H : -1;
    L->col_xr = -1;
    L->cols = H * C + 2 * H + (residual ? L->info.out_width : 0);
    k->ts = gk_t_stride(L);
    L->w_fused = gk_calloc_array((size_t)F * k->ts, sizeof(float));
    for (int f = 0; f < F; f++)
        for (int c = 0; c < L->cols; c++)
            L->w_fused[(size_t)f * k->ts + c] =
                kh_rand() * (c >= H * C && c < H * C + 2 * H ? scale : 1.0f) / sqrtf((float)F);
    L->bias = gk_calloc_array((size_t)L->info.out_width, sizeof(float));
    for (int c = 0; c < L->info.out_width; c++) L->bias[c] = 0.1f * kh_rand();
    if (D) {
        L->edge_w = gk_calloc_array((size_t)(D * H), sizeof(float));
        for (int q = 0; q < D * H; q++) L->edge_w[q] = kh_rand() * scale;
    }
    k->D = D;
}

/* A GATv2 layer, t = [xl | xr (unless share) | res], random weights;
 * `scale` multiplies att (large values stress the softmax). */
static inline void kh_layer_v2(kh_case *k, int F, int H, int C, int D, int concat, int share,
                               int residual, gk_activation act, float ns, float scale) {
    gk_layer *L = &k->L;
    memset(L, 0, sizeof *L);
    int hc = H * C;
    L->info.type = GK_LAYER_GATV2;
    L->info.in_channels = F;
    L->info.out_channels = C;
    L->info.heads = H;
    L->info.concat = concat;
    L->info.negative_slope = ns;
    L->info.edge_dim = D;
    L->info.residual = residual;
    L->info.share_weights = share;
    L->info.activation = act;
    L->info.out_width = concat ? hc : C;
    L->col_h = 0;
    L->col_src = L->col_dst = -1;
    L->col_xr = share ? 0 : hc;
    L->col_res = residual ? (share ? hc : 2 * hc) : -1;
    L->cols = (share ? hc : 2 * hc) + (residual ? L->info.out_width : 0);
    k->ts = gk_t_stride(L);
    L->w_fused = gk_calloc_array((size_t)F * k->ts, sizeof(float));
    for (int f = 0; f < F; f++)
        for (int c = 0; c < L->cols; c++)
            L->w_fused[(size_t)f * k->ts + c] = kh_rand() / sqrtf((float)F);
    L->att = gk_calloc_array((size_t)hc, sizeof(float));
    for (int c = 0; c < hc; c++) L->att[c] = kh_rand() * scale;
    L->bias = gk_calloc_array((size_t)L->info.out_width, sizeof(float));
    for (int c = 0; c < L->info.out_width; c++) L->bias[c] = 0.1f * kh_rand();
    if (D) {
        L->edge_w = gk_calloc_array((size_t)(D * hc), sizeof(float));
        for (int q = 0; q < D * hc; q++) L->edge_w[q] = kh_rand();
    }
    k->D = D;
}

/* CSR view: kind 0 random (isolated nodes, single neighbours, duplicate
 * edges), kind 1 complete (every (j, i) once, self loops included, sources
 * ascending), kind 2 complete with each row in its own order, kind 3
 * complete in the canonical order of a view that adds loops (the loop
 * last), kind 4 kind 0's rows each with its own loop last, as a view that
 * adds loops has them (the kernels weigh that loop apart). */
static inline void kh_graph(kh_case *k, size_t n, int kind) {
    gk_graph_view *v = &k->v;
    memset(v, 0, sizeof *v);
    size_t cap = kind && kind != 4 ? n * n : n * 41 + 150 * (n / 23 + 1);
    v->row_ptr = gk_calloc_array(n + 1, sizeof(int32_t));
    v->src = gk_calloc_array(cap + 1, sizeof(int32_t));
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        v->row_ptr[i] = (int32_t)e;
        if (kind == 3) {  /* the loop last */
            for (size_t j = 0; j < n; j++)
                if (j != i) v->src[e++] = (int32_t)j;
            v->src[e++] = (int32_t)i;
            continue;
        }
        if (kind == 1 || kind == 2) {  /* 2: each row in its own order, a rotation */
            for (size_t j = 0; j < n; j++)
                v->src[e++] = (int32_t)(kind == 2 ? (j + i * 7) % n : j);
            continue;
        }
        /* up to 38 edges, and some rows of 64 to 143: rows span several
         * vector blocks and several chunks of edges */
        int deg = i % 7 == 3 ? 0 : i % 7 == 4 ? 1 : i % 11 == 5 ? 17 + (int)(i % 21)
                : i % 23 == 9 ? 64 + (int)(i % 80) : 2 + (int)(i % 9);
        for (int q = 0; q < deg; q++) {
            int32_t j = (int32_t)((size_t)(kh_rand() * 0.5f + 0.5f) * 0 +
                                  (i * 31 + (size_t)q * 17) % n);
            v->src[e++] = j;
            if (q == 1) v->src[e++] = j;  /* a duplicate edge */
        }
        if (kind == 4) v->src[e++] = (int32_t)i;
    }
    v->row_ptr[n] = (int32_t)e;
    v->num_edges = e;
    v->is_complete = kind != 0 && kind != 4;
    v->complete_canonical = kind == 1 || kind == 3;
    v->add_self_loops = kind == 3 || kind == 4;
    if (k->D) {
        v->attr = gk_calloc_array(e * (size_t)k->D + 1, sizeof(float));
        for (size_t q = 0; q < e * (size_t)k->D; q++) v->attr[q] = kh_rand();
    }
    k->n = n;
}

static inline void kh_buffers(kh_case *k) {
    size_t n = k->n, H = (size_t)k->L.info.heads;
    k->x = gk_calloc_array(n * (size_t)k->L.info.in_channels + 16, sizeof(float));
    for (size_t q = 0; q < n * (size_t)k->L.info.in_channels; q++) k->x[q] = kh_rand();
    k->t = gk_calloc_array(n * k->ts + 16, sizeof(float));
    k->y = gk_calloc_array(n * (size_t)k->L.info.out_width + 16, sizeof(float));
    k->alpha = gk_calloc_array((k->v.num_edges + 1) * H, sizeof(float));
    k->ns_f = gk_calloc_array(gk_node_scratch_floats(&k->L, n), sizeof(float));
    k->ns_i = gk_calloc_array(gk_node_scratch_ints(&k->L, n), sizeof(int32_t));
    k->rs = gk_calloc_array(gk_row_scratch_floats(&k->L, n, k->v.num_edges), sizeof(float));
}

static inline void kh_free(kh_case *k) {
    gk_free(k->L.w_fused); gk_free(k->L.b_fused); gk_free(k->L.bias); gk_free(k->L.edge_w);
    gk_free(k->L.att);
    gk_free(k->v.row_ptr); gk_free(k->v.src); gk_free(k->v.attr);
    gk_free(k->x); gk_free(k->t); gk_free(k->y); gk_free(k->alpha);
    gk_free(k->ns_f); gk_free(k->ns_i); gk_free(k->rs);
}

static inline gk_layer_run kh_run(kh_case *k, int with_alpha) {
    gk_layer_run r;
    memset(&r, 0, sizeof r);
    r.layer = &k->L;
    r.view = &k->v;
    r.num_nodes = k->n;
    r.edge_dim = k->D;
    r.x = k->x;
    r.t = k->t;
    r.t_stride = k->ts;
    r.y = k->y;
    r.alpha = with_alpha ? k->alpha : NULL;
    r.node_scratch = k->ns_f;
    r.node_iscratch = k->ns_i;
    r.row_scratch = k->rs;
    return r;
}

/* t = x·W (+ b_fused when set) in float64 (the aggregation testers start
 * from the same t for the kernel and the reference). With `mag` non-NULL,
 * also Σ|x·w| + |b| per element: float rounding of any order of that sum
 * is within (F + 2)·2^-24 of it. */
static inline void kh_transform_ref_mag(const kh_case *k, double *t64, double *mag) {
    int F = k->L.info.in_channels;
    const float *b = k->L.b_fused;
    for (size_t i = 0; i < k->n; i++)
        for (size_t c = 0; c < k->ts; c++) {
            double s = b ? b[c] : 0.0, m = b ? fabs(b[c]) : 0.0;
            for (int f = 0; f < F; f++) {
                double p = (double)k->x[i * (size_t)F + (size_t)f] *
                           k->L.w_fused[(size_t)f * k->ts + c];
                s += p;
                m += fabs(p);
            }
            t64[i * k->ts + c] = s;
            if (mag) mag[i * k->ts + c] = m;
        }
}

static inline void kh_transform_ref(const kh_case *k, double *t64) {
    kh_transform_ref_mag(k, t64, NULL);
}

/* The float64 logit of edge e (source row t_j) into target row t_i, head h:
 * GATConv s_src[j] + s_dst[i] (+ Σ_d e·edge_w), GATv2Conv
 * Σ_c att[h,c]·lrelu(xl[j,h,c] + xr[i,h,c] (+ Σ_d e·W_e[d,h,c])); the
 * GATConv value is returned before its leaky_relu, the GATv2 one after the
 * sum (PyG: gat_conv.py, gatv2_conv.py). */
static inline double kh_logit(const kh_case *k, const float *t_j, const float *t_i, int32_t e,
                       int h) {
    const gk_layer *L = &k->L;
    int H = L->info.heads, C = L->info.out_channels;
    double ns = L->info.negative_slope;
    const float *a = k->D ? k->v.attr + (size_t)e * (size_t)k->D : NULL;
    if (L->info.type == GK_LAYER_GAT) {
        double z = (double)t_j[L->col_src + h] + t_i[L->col_dst + h];
        for (int d = 0; d < k->D; d++) z += (double)a[d] * L->edge_w[d * H + h];
        return z > 0 ? z : ns * z;
    }
    double z = 0;
    for (int c = h * C; c < (h + 1) * C; c++) {
        double v = (double)t_j[L->col_h + c] + t_i[L->col_xr + c];
        for (int d = 0; d < k->D; d++) v += (double)a[d] * L->edge_w[d * H * C + c];
        z += (double)L->att[c] * (v > 0 ? v : ns * v);
    }
    return z;
}

/* y and alpha of the layer in float64 from k->t. */
static inline void kh_aggregate_ref(const kh_case *k, double *y, double *alpha) {
    const gk_layer *L = &k->L;
    int H = L->info.heads, C = L->info.out_channels, W = L->info.out_width;
    double *out = calloc((size_t)(H * C), sizeof *out);
    for (size_t i = 0; i < k->n; i++) {
        const float *t_i = k->t + i * k->ts;
        int32_t e0 = k->v.row_ptr[i], e1 = k->v.row_ptr[i + 1];
        memset(out, 0, (size_t)(H * C) * sizeof *out);
        for (int h = 0; h < H; h++) {
            double m = -INFINITY, sum = 0;
            for (int pass = 0; pass < 3; pass++)
                for (int32_t e = e0; e < e1; e++) {
                    const float *t_j = k->t + (size_t)k->v.src[e] * k->ts;
                    double z = kh_logit(k, t_j, t_i, e, h);
                    if (pass == 0) { m = z > m ? z : m; continue; }
                    double w = exp(z - m);
                    if (pass == 1) {
                        sum += w;
                        for (int c = 0; c < C; c++) out[h * C + c] += w * t_j[L->col_h + h * C + c];
                    } else {
                        alpha[(size_t)e * (size_t)H + (size_t)h] = w / (sum + 1e-16);
                    }
                }
            for (int c = 0; c < C; c++) out[h * C + c] /= sum + 1e-16;
        }
        for (int c = 0; c < W; c++) {
            double o = 0;
            if (L->info.concat) o = out[c];
            else { for (int h = 0; h < H; h++) o += out[h * C + c]; o /= H; }
            if (L->col_res >= 0) o += t_i[L->col_res + c];
            o += L->bias[c];
            switch (L->info.activation) {
            case GK_ACT_ELU: o = o > 0 ? o : expm1(o); break;
            case GK_ACT_RELU: o = o > 0 ? o : 0; break;
            case GK_ACT_LEAKY_RELU: o = o > 0 ? o : 0.01 * o; break;
            case GK_ACT_NONE: break;
            }
            y[i * (size_t)W + (size_t)c] = o;
        }
    }
    free(out);
}

/* max|a - ref| / max(1, max|ref|) */
static inline double kh_err_f(const float *a, const double *ref, size_t count) {
    double m = 0, r = 1;
    for (size_t q = 0; q < count; q++) {
        double d = fabs((double)a[q] - ref[q]);
        m = d > m || d != d ? d : m;
        r = fabs(ref[q]) > r ? fabs(ref[q]) : r;
    }
    return m / r;
}

/* One tester run covers every ISA (no argument) or the one named by its
 * second argument: CTest registers one run per (family, ISA). */
static int kh_only = -1;   /* gk_isa, or -1: all */
static long kh_tested;     /* kernels of the covered ISAs tested */

/* Reads argv[2]: 0 to go on, 77 (CTest's skip code) when this CPU cannot run
 * that ISA, 2 for an unknown name. */
static inline int kh_select_isa(int argc, char **argv) {
    if (argc < 3) return 0;
    gk_isa isa;
    gk_error err;
    if (gk_isa_from_name(argv[2], &isa, &err) != GK_OK || isa == GK_ISA_AUTO ||
        isa == GK_ISA_GENERIC) {
        printf("%s\n", err.message);
        return 2;
    }
    kh_only = (int)isa;
    if (gk_cpu_supports(isa)) return 0;
    printf("skipped: this CPU cannot run %s kernels\n", argv[2]);
    return 77;
}

static inline int kh_skip(gk_isa isa, int *noted) {
    if (kh_only >= 0 && (int)isa != kh_only) return 1;
    if (gk_cpu_supports(isa)) {
        kh_tested++;
        return 0;
    }
    if (!noted[isa]) printf("note: this CPU cannot run %s kernels: skipped\n",
                            gk_isa_name(isa));
    noted[isa] = 1;
    return 1;
}

/* The exit status: failures, or an ISA asked for with no kernel in the
 * registry (a family that lost an ISA must not pass silently). */
static inline int kh_finish(int failed) {
    if (kh_only >= 0 && kh_tested == 0) {
        printf("FAIL: no kernel of this ISA in the registry\n");
        return 1;
    }
    return failed;
}

/* The skip note for every ISA this CPU cannot run, up front: rows of
 * another architecture's ISA are not in this build's registry at all. */
static inline void kh_note_skipped(int *noted) {
    for (int q = 0; q < 32; q++) {
        gk_isa isa = (gk_isa)q;
        if (isa == GK_ISA_AUTO || isa == GK_ISA_GENERIC || !strcmp(gk_isa_name(isa), "?"))
            continue;
        if (gk_cpu_supports(isa) || (kh_only >= 0 && (int)isa != kh_only) || noted[isa])
            continue;
        printf("note: this CPU cannot run %s kernels: skipped\n", gk_isa_name(isa));
        noted[isa] = 1;
    }
}

/* A registry row as the testers see it: the key's fields by name and, for
 * an aggregation, the prepare phase of the same ISA and shape. */
typedef struct kh_kernel {
    gk_isa isa;
    int heads, channels, edge_dim, concat, t_stride;
    int narrow_cols;  /* a narrow transform: only columns [0, narrow_cols) */
    const char *name;
    gk_phase_fn fn, prepare, aggregate;
} kh_kernel;

/* Row r as a kernel of op: 0 if r is another op's row; 1 with *k filled;
 * -1 (a failure) when an aggregation's prepare phase is not registered. */
static inline int kh_kernel_of(const gk_kernel_row *r, gk_kernel_op op, kh_kernel *k) {
    if (r->op != op) return 0;
    memset(k, 0, sizeof *k);
    k->isa = r->isa;
    k->name = r->name;
    k->fn = k->aggregate = r->fn;
    const int *v = r->key.v;
    const gk_kernel_row *prep = NULL;
    switch (op) {
    case GK_KERNEL_TRANSFORM:
        k->t_stride = v[0], k->narrow_cols = v[1];
        return 1;
    case GK_KERNEL_GAT_AGG:
        k->heads = v[0], k->channels = v[1], k->edge_dim = v[2], k->concat = v[3];
        prep = gk_reg_find(GK_KERNEL_GAT_PREPARE, r->isa, gk_key(v[0], v[1], v[2], 0));
        break;
    case GK_KERNEL_GAT_COMPLETE:  /* with edge features: the CSR kernels' prepare */
        k->heads = v[0], k->channels = v[1], k->concat = v[2], k->edge_dim = v[3];
        prep = v[3] ? gk_reg_find(GK_KERNEL_GAT_PREPARE, r->isa, gk_key(v[0], v[1], v[3], 0))
                    : gk_reg_find(GK_KERNEL_GAT_COMPLETE_PREPARE, r->isa, gk_key(v[0], v[1], 0, 0));
        break;
    case GK_KERNEL_GATV2_AGG:
        k->heads = v[0], k->channels = v[1], k->edge_dim = v[2], k->concat = v[3];
        return 1;
    default: return 1;
    }
    if (!prep) {
        printf("FAIL %s: no prepare kernel registered for it\n", r->name);
        return -1;
    }
    k->prepare = prep->fn;
    return 1;
}

/* A case variant picked by the kernel's key, not its row's index: adding
 * a shape to the registry does not reshuffle the other kernels' cases. */
static inline unsigned kh_variant(const kh_kernel *k) {
    return (unsigned)(k->heads * 7 + k->channels * 3 + k->edge_dim * 5 + k->concat +
                      k->t_stride / 16);
}

#endif
