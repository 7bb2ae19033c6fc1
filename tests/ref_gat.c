/* Float64 reference of PyG 2.6 GATConv / GATv2Conv: see ref_gat.h.
 *
 * Follows PyG's forward step by step (torch_geometric/nn/conv/gat_conv.py,
 * gatv2_conv.py, utils/loop.py, utils/softmax.py, utils/_scatter.py):
 *
 *  - add_self_loops: remove_self_loops keeps edges with src != dst (and
 *    their edge_attr rows) in order, add_self_loops appends loops 0..N-1.
 *    Loop features: compute_loop_attr(): a constant fills every loop; a
 *    string reduces the remaining edges' features over their TARGET
 *    (edge_index[1]) with scatter(reduce=...):
 *      "add"/"mean": scatter_add_ into zeros (mean divides by the count
 *                    clamped to >= 1), so a node with no incoming edge -> 0.
 *      "max"/"min":  zeros.scatter_reduce_(amax/amin, include_self=False):
 *                    the empty set leaves the initial 0.
 *      "mul":        ones.scatter_reduce_(prod, include_self=True) on CPU
 *                    ("We initialize with `one` here to match `scatter_mul`
 *                    output"), and torch_scatter's scatter_mul also starts
 *                    from ones: the empty set gives 1, NOT 0.
 *    Without add_self_loops the edge list is used as given (self loops in
 *    the input stay, each an ordinary edge).
 *  - GATConv: h = x W^T (lin has no bias); alpha_ij = s_src[j] + s_dst[i]
 *    (+ sum_c lin_edge(ea)[h,c] * att_edge[h,c]), then leaky_relu.
 *  - GATv2Conv: xl = lin_l(x), xr = share_weights ? xl : lin_r(x);
 *    alpha_ij = sum_c att[h,c] * leaky_relu(xl_j + xr_i (+ lin_edge(ea)))
 *    (lin_edge has no bias); messages are xl_j.
 *  - softmax over the incoming edges of each target, per head: subtract the
 *    max, exp, divide by (sum + 1e-16). Duplicate edges are separate terms.
 *  - out = sum_j alpha_ij * msg_j; concat heads or mean over heads;
 *    + res(x) (Linear without bias, PyG >= 2.6); + bias; then the model's
 *    activation (elu alpha 1, relu, leaky_relu 0.01). */
#include "ref_gat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ref_attention_free(ref_attention *a)
{
    if (!a)
        return;
    free(a->src);
    free(a->dst);
    free(a->alpha);
    memset(a, 0, sizeof *a);
}

int ref_layer_out_width(const ref_layer *L)
{
    return L->concat ? L->heads * L->out_channels : L->out_channels;
}

static double *zalloc(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

int ref_layer_alloc(ref_layer *L)
{
    size_t hc = (size_t)L->heads * (size_t)L->out_channels;
    size_t f = (size_t)L->in_channels, d = (size_t)L->edge_dim;
    L->out_width = ref_layer_out_width(L);
    size_t ow = (size_t)L->out_width;
    int ok = 1;
    if (L->type == GK_LAYER_GAT) {
        ok &= (L->lin_w = zalloc(hc * f)) != NULL;
        ok &= (L->att_src = zalloc(hc)) != NULL;
        ok &= (L->att_dst = zalloc(hc)) != NULL;
        if (d)
            ok &= (L->att_edge = zalloc(hc)) != NULL;
    } else {
        ok &= (L->lin_l_w = zalloc(hc * f)) != NULL;
        ok &= (L->lin_l_b = zalloc(hc)) != NULL;
        ok &= (L->lin_r_w = zalloc(hc * f)) != NULL;
        ok &= (L->lin_r_b = zalloc(hc)) != NULL;
        ok &= (L->att = zalloc(hc)) != NULL;
    }
    if (d)
        ok &= (L->lin_edge_w = zalloc(hc * d)) != NULL;
    if (L->bias)
        ok &= (L->bias_v = zalloc(ow)) != NULL;
    if (L->residual)
        ok &= (L->res_w = zalloc(ow * f)) != NULL;
    return ok ? 0 : -1;
}

void ref_layer_free(ref_layer *L)
{
    double **arrays[] = {&L->lin_w,   &L->att_src, &L->att_dst, &L->att_edge,
                         &L->lin_l_w, &L->lin_l_b, &L->lin_r_w, &L->lin_r_b,
                         &L->att,     &L->lin_edge_w, &L->bias_v, &L->res_w};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        free(*arrays[i]);
        *arrays[i] = NULL;
    }
}

static double leaky_relu(double v, double slope)
{
    return v > 0.0 ? v : v * slope;
}

static double activate(gk_activation act, double v)
{
    switch (act) {
    case GK_ACT_ELU:
        return v > 0.0 ? v : expm1(v);
    case GK_ACT_RELU:
        return v > 0.0 ? v : 0.0;
    case GK_ACT_LEAKY_RELU:
        return v > 0.0 ? v : 0.01 * v;
    case GK_ACT_NONE:
    default:
        return v;
    }
}

/* out[n, r] = sum_k w[r, k] * x[n, k] (+ b[r]): a torch Linear. */
static void linear(const double *x, size_t n, int in, const double *w,
                   const double *b, int rows, double *out)
{
    for (size_t i = 0; i < n; i++)
        for (int r = 0; r < rows; r++) {
            double acc = b ? b[r] : 0.0;
            for (int k = 0; k < in; k++)
                acc += w[(size_t)r * in + k] * x[i * in + k];
            out[i * rows + r] = acc;
        }
}

/* The layer's edge list after self-loop handling, with edge features. */
typedef struct edge_list {
    size_t count;
    int64_t *src, *dst;
    double *attr;                /* [count, D] or NULL */
} edge_list;

static void edge_list_free(edge_list *el)
{
    free(el->src);
    free(el->dst);
    free(el->attr);
}

/* Loop features of node i: reduce the features of the kept edges whose
 * target is i (see the header comment for the empty-set values). */
static void loop_attr(const ref_layer *L, const edge_list *el, size_t kept,
                      int D, int64_t node, double *out)
{
    for (int d = 0; d < D; d++) {
        if (L->fill == GK_FILL_CONSTANT) {
            out[d] = L->fill_constant;
            continue;
        }
        double acc = L->fill == GK_FILL_MUL ? 1.0 : 0.0;
        size_t count = 0;
        for (size_t e = 0; e < kept; e++) {
            if (el->dst[e] != node)
                continue;
            double v = el->attr[e * D + d];
            switch (L->fill) {
            case GK_FILL_MEAN:
            case GK_FILL_ADD:
                acc += v;
                break;
            case GK_FILL_MUL:
                acc *= v;
                break;
            case GK_FILL_MAX:
                acc = count == 0 ? v : fmax(acc, v);
                break;
            case GK_FILL_MIN:
                acc = count == 0 ? v : fmin(acc, v);
                break;
            default:
                break;
            }
            count++;
        }
        if (L->fill == GK_FILL_MEAN && count > 0)
            acc /= (double)count;
        out[d] = acc;
    }
}

static int build_edges(const ref_layer *L, size_t N, size_t E,
                       const int64_t *src, const int64_t *dst,
                       const double *edge_attr, int D, edge_list *el)
{
    size_t cap = E + (L->add_self_loops ? N : 0);
    int use_attr = edge_attr != NULL && D > 0;
    memset(el, 0, sizeof *el);
    el->src = malloc((cap ? cap : 1) * sizeof(int64_t));
    el->dst = malloc((cap ? cap : 1) * sizeof(int64_t));
    if (use_attr)
        el->attr = zalloc(cap * (size_t)D);
    if (!el->src || !el->dst || (use_attr && !el->attr)) {
        edge_list_free(el);
        return -1;
    }
    for (size_t e = 0; e < E; e++) {
        if (L->add_self_loops && src[e] == dst[e])
            continue;
        el->src[el->count] = src[e];
        el->dst[el->count] = dst[e];
        if (use_attr)
            memcpy(el->attr + el->count * D, edge_attr + e * D,
                   (size_t)D * sizeof(double));
        el->count++;
    }
    if (L->add_self_loops) {
        size_t kept = el->count;
        for (size_t i = 0; i < N; i++) {
            el->src[el->count] = (int64_t)i;
            el->dst[el->count] = (int64_t)i;
            if (use_attr)
                loop_attr(L, el, kept, D, (int64_t)i,
                          el->attr + el->count * D);
            el->count++;
        }
    }
    return 0;
}

/* Raw logits e[k*H + h] for every edge of el. msg receives the per-node
 * message features [N, H*C] (h for GAT, xl for GATv2). */
static int compute_logits(const ref_layer *L, size_t N, const edge_list *el,
                          int D, const double *x, double *msg, double *logit)
{
    int H = L->heads, C = L->out_channels, F = L->in_channels;
    int HC = H * C;
    int use_edge = L->edge_dim > 0 && el->attr != NULL;
    double *ep = zalloc((size_t)HC);      /* lin_edge(ea) for one edge */
    double *xr = NULL, *s_src = NULL, *s_dst = NULL;
    int rc = -1;
    if (!ep)
        goto out;
    if (L->type == GK_LAYER_GAT) {
        s_src = zalloc(N * (size_t)H);
        s_dst = zalloc(N * (size_t)H);
        if (!s_src || !s_dst)
            goto out;
        linear(x, N, F, L->lin_w, NULL, HC, msg);
        for (size_t n = 0; n < N; n++)
            for (int h = 0; h < H; h++) {
                double a = 0.0, b = 0.0;
                for (int c = 0; c < C; c++) {
                    a += msg[n * HC + h * C + c] * L->att_src[h * C + c];
                    b += msg[n * HC + h * C + c] * L->att_dst[h * C + c];
                }
                s_src[n * H + h] = a;
                s_dst[n * H + h] = b;
            }
    } else {
        linear(x, N, F, L->lin_l_w, L->lin_l_b, HC, msg);
        if (L->share_weights) {
            xr = msg;
        } else {
            xr = zalloc(N * (size_t)HC);
            if (!xr)
                goto out;
            linear(x, N, F, L->lin_r_w, L->lin_r_b, HC, xr);
        }
    }
    for (size_t k = 0; k < el->count; k++) {
        int64_t j = el->src[k], i = el->dst[k];
        if (use_edge)
            linear(el->attr + k * D, 1, D, L->lin_edge_w, NULL, HC, ep);
        for (int h = 0; h < H; h++) {
            double e;
            if (L->type == GK_LAYER_GAT) {
                e = s_src[j * H + h] + s_dst[i * H + h];
                if (use_edge)
                    for (int c = 0; c < C; c++)
                        e += ep[h * C + c] * L->att_edge[h * C + c];
                e = leaky_relu(e, L->negative_slope);
            } else {
                e = 0.0;
                for (int c = 0; c < C; c++) {
                    double v = msg[j * HC + h * C + c] + xr[i * HC + h * C + c];
                    if (use_edge)
                        v += ep[h * C + c];
                    e += L->att[h * C + c] * leaky_relu(v, L->negative_slope);
                }
            }
            logit[k * H + h] = e;
        }
    }
    rc = 0;
out:
    free(ep);
    free(s_src);
    free(s_dst);
    if (xr != msg)
        free(xr);
    return rc;
}

/* In place: logits -> attention weights, per target and head. */
static int softmax_by_target(size_t N, const edge_list *el, int H,
                             double *alpha)
{
    double *mx = malloc((N ? N : 1) * (size_t)H * sizeof(double));
    double *sum = zalloc(N * (size_t)H);
    if (!mx || !sum) {
        free(mx);
        free(sum);
        return -1;
    }
    for (size_t t = 0; t < N * (size_t)H; t++)
        mx[t] = -INFINITY;
    for (size_t k = 0; k < el->count; k++)
        for (int h = 0; h < H; h++) {
            double *m = &mx[el->dst[k] * H + h];
            *m = fmax(*m, alpha[k * H + h]);
        }
    for (size_t k = 0; k < el->count; k++)
        for (int h = 0; h < H; h++) {
            double v = exp(alpha[k * H + h] - mx[el->dst[k] * H + h]);
            alpha[k * H + h] = v;
            sum[el->dst[k] * H + h] += v;
        }
    for (size_t k = 0; k < el->count; k++)
        for (int h = 0; h < H; h++)
            alpha[k * H + h] /= sum[el->dst[k] * H + h] + 1e-16;
    free(mx);
    free(sum);
    return 0;
}

int ref_layer_forward(const ref_layer *L, size_t N, size_t E,
                      const int64_t *src, const int64_t *dst,
                      const double *edge_attr, int D, const double *x,
                      double *y, ref_attention *att)
{
    int H = L->heads, C = L->out_channels, F = L->in_channels;
    int HC = H * C, OW = ref_layer_out_width(L);
    edge_list el;
    double *msg = NULL, *alpha = NULL, *agg = NULL;
    int rc = -1;

    if (L->edge_dim > 0 && (edge_attr == NULL || D != L->edge_dim))
        return -1;
    for (size_t e = 0; e < E; e++)
        if (src[e] < 0 || dst[e] < 0 || (size_t)src[e] >= N ||
            (size_t)dst[e] >= N)
            return -1;
    if (build_edges(L, N, E, src, dst, L->edge_dim > 0 ? edge_attr : NULL,
                    L->edge_dim > 0 ? D : 0, &el) != 0)
        return -1;
    msg = zalloc(N * (size_t)HC);
    alpha = zalloc(el.count * (size_t)H);
    agg = zalloc(N * (size_t)HC);
    if (!msg || !alpha || !agg)
        goto out;
    if (compute_logits(L, N, &el, L->edge_dim, x, msg, alpha) != 0)
        goto out;
    if (softmax_by_target(N, &el, H, alpha) != 0)
        goto out;

    for (size_t k = 0; k < el.count; k++) {
        int64_t j = el.src[k], i = el.dst[k];
        for (int h = 0; h < H; h++)
            for (int c = 0; c < C; c++)
                agg[i * HC + h * C + c] +=
                    alpha[k * H + h] * msg[j * HC + h * C + c];
    }
    for (size_t n = 0; n < N; n++) {
        for (int o = 0; o < OW; o++) {
            double v;
            if (L->concat) {
                v = agg[n * HC + o];
            } else {
                v = 0.0;
                for (int h = 0; h < H; h++)
                    v += agg[n * HC + h * C + o];
                v /= (double)H;
            }
            if (L->residual)
                for (int f = 0; f < F; f++)
                    v += L->res_w[(size_t)o * F + f] * x[n * F + f];
            if (L->bias)
                v += L->bias_v[o];
            y[n * OW + o] = activate(L->activation, v);
        }
    }
    if (att) {
        att->num_edges = el.count;
        att->heads = H;
        att->src = el.src;
        att->dst = el.dst;
        att->alpha = alpha;
        el.src = el.dst = NULL;
        alpha = NULL;
    }
    rc = 0;
out:
    edge_list_free(&el);
    free(msg);
    free(alpha);
    free(agg);
    return rc;
}

int ref_forward(const ref_layer *layers, int num_layers, size_t N, size_t E,
                const int64_t *src, const int64_t *dst,
                const double *edge_attr, int D, const double *x, double *y,
                ref_attention *att)
{
    const double *in = x;
    double *buf = NULL;
    for (int l = 0; l < num_layers; l++) {
        int ow = ref_layer_out_width(&layers[l]);
        double *out = l == num_layers - 1 ? y : zalloc(N * (size_t)ow);
        if (!out ||
            ref_layer_forward(&layers[l], N, E, src, dst, edge_attr, D, in,
                              out, att ? &att[l] : NULL) != 0) {
            if (out != y)
                free(out);
            free(buf);
            return -1;
        }
        free(buf);
        buf = out != y ? out : NULL;
        in = out;
    }
    free(buf);
    return 0;
}

static double max_abs_d(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(v[i]));
    return m;
}

double ref_rel_error_f32(const float *y, const double *y_ref, size_t n)
{
    double err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)y[i] - y_ref[i]);
        if (d != d)
            return INFINITY;      /* NaN in y */
        err = fmax(err, d);
    }
    return err / fmax(1.0, max_abs_d(y_ref, n));
}

double ref_rel_error_f64(const double *y, const double *y_ref, size_t n)
{
    double err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(y[i] - y_ref[i]);
        if (d != d)
            return INFINITY;
        err = fmax(err, d);
    }
    return err / fmax(1.0, max_abs_d(y_ref, n));
}
