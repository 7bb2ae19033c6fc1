/* Random models on random graphs: the library (float32, every ISA the CPU
 * runs) against the float64 reference (ref_gat.c), many seeds.
 *
 * Each seed draws a 1-3 layer model (GATConv / GATv2Conv with both
 * share_weights, heads 1-4, concat/mean, several negative slopes, self
 * loops on/off with every fill_value incl. a constant, edge_dim 0/1/3,
 * bias, residual, every activation), writes it as a safetensors buffer
 * with PyG's state_dict names (gk_st_serialize) and loads it with
 * gk_model_load_buffer. The graph has duplicate edges, existing self loops,
 * isolated nodes, sometimes N=1 or E=0, int32 or int64 indices, in random
 * order or sorted by target (the two ways gk_graph_set_coo builds CSR); some
 * graphs are complete, with or without self loops, and are set with
 * gk_graph_set_complete (no edge list read). Some seeds
 * scale the attention vectors x50 so logits are large and the softmax must
 * shift by the row max. Weights and inputs are float32 values, so both
 * sides start from the same numbers.
 *
 * Checks: y within 1e-5 by the fixture metric, and every layer's attention
 * weights (keep_attention) within 1e-5 of the reference's alpha, matched
 * edge by edge via gk_graph_layer_edges (sorted by target, source, alpha,
 * since duplicate edges are separate softmax terms).
 *
 * Usage: test_random [fixtures_dir] [num_seeds] [first_seed] */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphkern.h"
#include "ref_gat.h"
#include "safetensors.h"
#include "test_util.h"

#define TOL 1e-5
#define MAX_LAYERS 3
#define MAX_TENSORS (MAX_LAYERS * 10)

/* ---- PRNG: splitmix64, fixed so that every run sees the same cases ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int rng_int(int lo, int hi) /* inclusive */
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

static float rng_uniform(float lo, float hi)
{
    double u = (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

/* ---- a random model: configs + float32 weights, mirrored in doubles --- */

typedef struct rand_model {
    int num_layers;
    int edge_dim;                        /* D of the graph's edge_attr  */
    ref_layer layers[MAX_LAYERS];
    float *store[MAX_TENSORS];           /* float32 copies to serialize */
    gk_st_out out[MAX_TENSORS];
    char names[MAX_TENSORS][64];
    size_t num_tensors;
    char json[4096];
} rand_model;

/* Fill dst (double) with random float32 values and register the float32
 * copy as tensor prefix.suffix of the given shape. */
static int add_tensor(rand_model *m, int layer, const char *suffix,
                      double *dst, int ndim, const int64_t *shape,
                      float scale)
{
    size_t n = 1, t = m->num_tensors;
    for (int d = 0; d < ndim; d++)
        n *= (size_t)shape[d];
    float *v = malloc((n ? n : 1) * sizeof(float));
    if (!v || t >= MAX_TENSORS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        v[i] = rng_uniform(-0.5f, 0.5f) * scale;
        dst[i] = v[i];
    }
    m->store[t] = v;
    snprintf(m->names[t], sizeof m->names[t], "conv%d.%s", layer + 1, suffix);
    m->out[t].name = m->names[t];
    m->out[t].dtype = GK_DT_F32;
    m->out[t].ndim = ndim;
    memcpy(m->out[t].shape, shape, (size_t)ndim * sizeof(int64_t));
    m->out[t].data = v;
    m->num_tensors++;
    return 0;
}

/* Register an existing float32 tensor again under another name (PyG's
 * state_dict lists lin_r.* even when share_weights makes it lin_l). */
static int alias_tensor(rand_model *m, int layer, const char *suffix,
                        size_t of)
{
    size_t t = m->num_tensors;
    if (t >= MAX_TENSORS)
        return -1;
    m->out[t] = m->out[of];
    snprintf(m->names[t], sizeof m->names[t], "conv%d.%s", layer + 1, suffix);
    m->out[t].name = m->names[t];
    m->store[t] = NULL;
    m->num_tensors++;
    return 0;
}

static const char *ACT_NAMES[] = {"none", "elu", "relu", "leaky_relu"};
static const char *FILL_NAMES[] = {"mean", "add", "max", "min", "mul"};

static int random_layer_weights(rand_model *m, int l, float att_scale)
{
    ref_layer *L = &m->layers[l];
    int64_t H = L->heads, C = L->out_channels, F = L->in_channels;
    int64_t D = L->edge_dim, OW = L->out_width;
    int64_t s_w[2] = {H * C, F}, s_att[3] = {1, H, C}, s_hc[1] = {H * C};
    int64_t s_e[2] = {H * C, D}, s_b[1] = {OW}, s_res[2] = {OW, F};
    int rc = 0;
    if (ref_layer_alloc(L) != 0)
        return -1;
    if (L->type == GK_LAYER_GAT) {
        rc |= add_tensor(m, l, "lin.weight", L->lin_w, 2, s_w, 1.0f);
        rc |= add_tensor(m, l, "att_src", L->att_src, 3, s_att, att_scale);
        rc |= add_tensor(m, l, "att_dst", L->att_dst, 3, s_att, att_scale);
        if (D) {
            rc |= add_tensor(m, l, "lin_edge.weight", L->lin_edge_w, 2, s_e,
                             1.0f);
            rc |= add_tensor(m, l, "att_edge", L->att_edge, 3, s_att,
                             att_scale);
        }
    } else {
        size_t lw = m->num_tensors;
        rc |= add_tensor(m, l, "lin_l.weight", L->lin_l_w, 2, s_w, 1.0f);
        rc |= add_tensor(m, l, "lin_l.bias", L->lin_l_b, 1, s_hc, 1.0f);
        if (L->share_weights) {
            memcpy(L->lin_r_w, L->lin_l_w, (size_t)(H * C * F) * sizeof(double));
            memcpy(L->lin_r_b, L->lin_l_b, (size_t)(H * C) * sizeof(double));
            rc |= alias_tensor(m, l, "lin_r.weight", lw);
            rc |= alias_tensor(m, l, "lin_r.bias", lw + 1);
        } else {
            rc |= add_tensor(m, l, "lin_r.weight", L->lin_r_w, 2, s_w, 1.0f);
            rc |= add_tensor(m, l, "lin_r.bias", L->lin_r_b, 1, s_hc, 1.0f);
        }
        rc |= add_tensor(m, l, "att", L->att, 3, s_att, att_scale);
        if (D)
            rc |= add_tensor(m, l, "lin_edge.weight", L->lin_edge_w, 2, s_e,
                             1.0f);
    }
    if (L->bias)
        rc |= add_tensor(m, l, "bias", L->bias_v, 1, s_b, 1.0f);
    if (L->residual)
        rc |= add_tensor(m, l, "res.weight", L->res_w, 2, s_res, 1.0f);
    return rc;
}

static void layer_json(const ref_layer *L, int l, char *buf, size_t size)
{
    char fill[64], edge[32], share[48];
    if (L->fill == GK_FILL_CONSTANT)
        snprintf(fill, sizeof fill, "%.9g", L->fill_constant);
    else
        snprintf(fill, sizeof fill, "\"%s\"", FILL_NAMES[L->fill]);
    if (L->edge_dim)
        snprintf(edge, sizeof edge, "%d", L->edge_dim);
    else
        snprintf(edge, sizeof edge, "null");
    share[0] = '\0';
    if (L->type == GK_LAYER_GATV2)
        snprintf(share, sizeof share, ", \"share_weights\": %s",
                 L->share_weights ? "true" : "false");
    snprintf(buf, size,
             "{\"name\": \"conv%d\", \"type\": \"%s\", \"in_channels\": %d, "
             "\"out_channels\": %d, \"heads\": %d, \"concat\": %s, "
             "\"negative_slope\": %.9g, \"add_self_loops\": %s, "
             "\"fill_value\": %s, \"edge_dim\": %s, \"bias\": %s, "
             "\"residual\": %s, \"activation\": \"%s\"%s}",
             l + 1, L->type == GK_LAYER_GAT ? "GATConv" : "GATv2Conv",
             L->in_channels, L->out_channels, L->heads,
             L->concat ? "true" : "false", L->negative_slope,
             L->add_self_loops ? "true" : "false", fill, edge,
             L->bias ? "true" : "false", L->residual ? "true" : "false",
             ACT_NAMES[L->activation], share);
}

static int random_model(rand_model *m, float att_scale)
{
    static const double slopes[] = {0.2, 0.01, 0.0, 0.5};
    static const int edge_dims[] = {0, 1, 3};
    size_t len;
    memset(m, 0, sizeof *m);
    m->num_layers = rng_int(1, MAX_LAYERS);
    m->edge_dim = edge_dims[rng_int(0, 2)];
    int in = rng_int(1, 8);
    len = (size_t)snprintf(m->json, sizeof m->json,
                           "{\"version\": 1, \"layers\": [");
    for (int l = 0; l < m->num_layers; l++) {
        ref_layer *L = &m->layers[l];
        L->type = rng_int(0, 1) ? GK_LAYER_GATV2 : GK_LAYER_GAT;
        L->in_channels = in;
        L->out_channels = rng_int(1, 5);
        L->heads = rng_int(1, 4);
        L->concat = rng_int(0, 1);
        L->negative_slope = slopes[rng_int(0, 3)];
        L->add_self_loops = rng_int(0, 3) != 0;
        L->fill = (gk_fill)rng_int(0, 5);
        L->fill_constant = (double)rng_uniform(-2.0f, 2.0f);
        /* A layer uses the graph's edge features or ignores them. */
        L->edge_dim = m->edge_dim && rng_int(0, 3) ? m->edge_dim : 0;
        L->bias = rng_int(0, 3) != 0;
        L->residual = rng_int(0, 2) == 0;
        L->share_weights = L->type == GK_LAYER_GATV2 && rng_int(0, 1);
        L->activation = (gk_activation)rng_int(0, 3);
        L->out_width = ref_layer_out_width(L);
        in = L->out_width;
        if (random_layer_weights(m, l, att_scale) != 0)
            return -1;
        char one[1024];
        layer_json(L, l, one, sizeof one);
        len += (size_t)snprintf(m->json + len, sizeof m->json - len, "%s%s",
                                l ? ", " : "", one);
    }
    snprintf(m->json + len, sizeof m->json - len, "]}");
    return 0;
}

static void free_model(rand_model *m)
{
    for (int l = 0; l < m->num_layers; l++)
        ref_layer_free(&m->layers[l]);
    for (size_t t = 0; t < m->num_tensors; t++)
        free(m->store[t]);
}

/* ---- a random graph --------------------------------------------------- */

typedef struct rand_graph {
    size_t N, E;
    int D;
    int64_t *src, *dst;
    double *attr_d;               /* [E, D] for the reference */
    float *attr_f;                /* [E, D] for the library   */
    float *x_f;
    double *x_d;
    gk_index_type index_type;
    void *edge_index;             /* [2, E] int32 or int64    */
    int complete;                 /* 0: a COO; 1: complete; 2: with loops */
    int via;                      /* a complete graph given by VIA_* */
} rand_graph;

/* How a complete graph reaches the library: gk_graph_set_complete, or its
 * canonical COO through gk_graph_set_coo (target-major; source-major, the
 * same pairs, each edge's features with it), or that COO with its last edge
 * moved to another source or target (not complete: the full build). */
enum { VIA_SET_COMPLETE, VIA_COO, VIA_COO_SOURCE_MAJOR, VIA_COO_NEAR_COMPLETE };

/* Reorder the edges by target, stably (insertion sort: E is small). */
static void sort_by_target(rand_graph *g)
{
    size_t D = (size_t)g->D;
    for (size_t e = 1; e < g->E; e++) {
        size_t k = e;
        while (k > 0 && g->dst[k - 1] > g->dst[k]) {
            int64_t t = g->dst[k]; g->dst[k] = g->dst[k - 1]; g->dst[k - 1] = t;
            t = g->src[k]; g->src[k] = g->src[k - 1]; g->src[k - 1] = t;
            for (size_t d = 0; d < D; d++) {
                float f = g->attr_f[k * D + d];
                g->attr_f[k * D + d] = g->attr_f[(k - 1) * D + d];
                g->attr_f[(k - 1) * D + d] = f;
            }
            k--;
        }
    }
}

static int random_graph(rand_graph *g, int F, int D)
{
    memset(g, 0, sizeof *g);
    int kind = rng_int(0, 9);
    g->N = kind == 0 ? 1 : (size_t)rng_int(2, kind < 8 ? 12 : 40);
    g->E = kind == 1 ? 0 : (size_t)rng_int(0, 3 * (int)g->N);
    g->complete = rng_int(0, 5) == 0 ? rng_int(1, 2) : 0;
    if (g->complete)  /* target-major, sources ascending: set_complete's order */
        g->E = g->complete == 2 ? g->N * g->N : g->N * (g->N - 1);
    g->via = g->complete ? rng_int(VIA_SET_COMPLETE, VIA_COO_NEAR_COMPLETE) : VIA_SET_COMPLETE;
    g->D = D;
    g->index_type = rng_int(0, 1) ? GK_INDEX_I64 : GK_INDEX_I32;
    size_t E = g->E, N = g->N;
    g->src = malloc((E + 1) * sizeof(int64_t));
    g->dst = malloc((E + 1) * sizeof(int64_t));
    g->attr_d = malloc((E * (size_t)D + 1) * sizeof(double));
    g->attr_f = malloc((E * (size_t)D + 1) * sizeof(float));
    g->x_f = malloc((N * (size_t)F + 1) * sizeof(float));
    g->x_d = malloc((N * (size_t)F + 1) * sizeof(double));
    g->edge_index = malloc((2 * E + 1) * sizeof(int64_t));
    if (!g->src || !g->dst || !g->attr_d || !g->attr_f || !g->x_f ||
        !g->x_d || !g->edge_index)
        return -1;
    /* Nodes >= active are isolated (no edge in or out) when active < N. */
    size_t active = N > 3 && rng_int(0, 1) ? N - (size_t)rng_int(1, 2) : N;
    for (size_t e = 0; e < E && g->complete; e++) {
        size_t per_row = g->complete == 2 ? N : N - 1, i = e / per_row, j = e % per_row;
        g->dst[e] = (int64_t)i;
        g->src[e] = (int64_t)(g->complete == 1 && j >= i ? j + 1 : j);
        if (g->via == VIA_COO_SOURCE_MAJOR) {  /* edge i -> j: the same pairs */
            int64_t s = g->src[e];
            g->src[e] = g->dst[e];
            g->dst[e] = s;
        }
    }
    if (g->via == VIA_COO_NEAR_COMPLETE && E >= 2) {  /* its source, or its target */
        if (rng_int(0, 1)) g->src[E - 1] = g->src[E - 2];
        else g->dst[E - 1] = g->dst[E - 1] - 1;
    }
    for (size_t e = 0; e < E && !g->complete; e++) {
        int r = rng_int(0, 9);
        if (r == 0 && e > 0) {            /* duplicate of an earlier edge */
            size_t k = (size_t)rng_int(0, (int)e - 1);
            g->src[e] = g->src[k];
            g->dst[e] = g->dst[k];
        } else if (r == 1) {              /* an existing self loop */
            g->src[e] = g->dst[e] = rng_int(0, (int)active - 1);
        } else {
            g->src[e] = rng_int(0, (int)active - 1);
            g->dst[e] = rng_int(0, (int)active - 1);
        }
    }
    for (size_t i = 0; i < E * (size_t)D; i++) g->attr_f[i] = rng_uniform(-1.0f, 1.0f);
    if (!g->complete && rng_int(0, 2) == 0) sort_by_target(g);
    for (size_t i = 0; i < E * (size_t)D; i++) g->attr_d[i] = g->attr_f[i];
    for (size_t i = 0; i < N * (size_t)F; i++) {
        g->x_f[i] = rng_uniform(-1.0f, 1.0f);
        g->x_d[i] = g->x_f[i];
    }
    for (size_t e = 0; e < E; e++) {
        if (g->index_type == GK_INDEX_I64) {
            ((int64_t *)g->edge_index)[e] = g->src[e];
            ((int64_t *)g->edge_index)[E + e] = g->dst[e];
        } else {
            ((int32_t *)g->edge_index)[e] = (int32_t)g->src[e];
            ((int32_t *)g->edge_index)[E + e] = (int32_t)g->dst[e];
        }
    }
    return 0;
}

static void free_graph(rand_graph *g)
{
    free(g->src);
    free(g->dst);
    free(g->attr_d);
    free(g->attr_f);
    free(g->x_f);
    free(g->x_d);
    free(g->edge_index);
}

/* ---- attention comparison -------------------------------------------- */

typedef struct att_row {
    int64_t dst, src;
    int heads;
    double a[4];
} att_row;

static int cmp_row(const void *pa, const void *pb)
{
    const att_row *a = pa, *b = pb;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    for (int h = 0; h < a->heads; h++)
        if (a->a[h] != b->a[h])
            return a->a[h] < b->a[h] ? -1 : 1;
    return 0;
}

/* Max |alpha_lib - alpha_ref| over layer l's edges, or INFINITY when the
 * edge sets differ. */
static double attention_error(const gk_plan *plan, const gk_graph *graph,
                              int l, const ref_attention *ref, char *why,
                              size_t why_size)
{
    size_t ne = 0;
    int heads = 0;
    const float *alpha = gk_plan_attention(plan, l, &ne, &heads);
    size_t n = gk_graph_layer_edges(graph, l, NULL, NULL, 0);
    if (!alpha && n == 0 && ref->num_edges == 0)
        return 0.0;          /* nothing to attend over: NULL is fine */
    if (!alpha || heads != ref->heads || ne != ref->num_edges ||
        n != ref->num_edges) {
        snprintf(why, why_size,
                 "layer %d attention shape: lib %zu edges (graph %zu) x %d "
                 "heads%s, ref %zu x %d",
                 l, ne, n, heads, alpha ? "" : " (NULL)", ref->num_edges,
                 ref->heads);
        return INFINITY;
    }
    int64_t *src = malloc((n + 1) * sizeof(int64_t));
    int64_t *dst = malloc((n + 1) * sizeof(int64_t));
    att_row *a = calloc(n + 1, sizeof *a), *b = calloc(n + 1, sizeof *b);
    double err = 0.0;
    gk_graph_layer_edges(graph, l, src, dst, n);
    for (size_t k = 0; k < n; k++) {
        a[k].dst = dst[k];
        a[k].src = src[k];
        b[k].dst = ref->dst[k];
        b[k].src = ref->src[k];
        a[k].heads = b[k].heads = heads;
        for (int h = 0; h < heads; h++) {
            a[k].a[h] = alpha[k * (size_t)heads + h];
            b[k].a[h] = ref->alpha[k * (size_t)heads + h];
        }
    }
    qsort(a, n, sizeof *a, cmp_row);
    qsort(b, n, sizeof *b, cmp_row);
    for (size_t k = 0; k < n && err != INFINITY; k++) {
        if (a[k].dst != b[k].dst || a[k].src != b[k].src) {
            snprintf(why, why_size,
                     "layer %d edge sets differ at sorted row %zu: lib "
                     "%lld->%lld, ref %lld->%lld",
                     l, k, (long long)a[k].src, (long long)a[k].dst,
                     (long long)b[k].src, (long long)b[k].dst);
            err = INFINITY;
            break;
        }
        for (int h = 0; h < heads; h++) {
            double d = fabs(a[k].a[h] - b[k].a[h]);
            if (!(d <= err))
                err = d != d ? INFINITY : d;
        }
    }
    free(src);
    free(dst);
    free(a);
    free(b);
    return err;
}

/* ---- coverage: what the seeds exercised, printed at the end ---------- */

enum {
    COV_GAT, COV_GATV2, COV_GATV2_SHARED, COV_MEAN_HEADS, COV_NO_LOOPS,
    COV_FILL0, /* + gk_fill: fills that reached edge features */
    COV_EDGE1 = COV_FILL0 + 6, COV_EDGE3, COV_RESIDUAL, COV_NO_BIAS,
    COV_ACT0, /* + gk_activation */
    COV_LAYERS1 = COV_ACT0 + 4, COV_LAYERS2, COV_LAYERS3,
    COV_N1 = COV_LAYERS1 + 3, COV_E0, COV_I32, COV_DUP, COV_SELF_LOOP,
    COV_ISOLATED, COV_ATT_X50, COV_SORTED, COV_COMPLETE, COV_COMPLETE_LOOPS,
    COV_COMPLETE_COO, COV_COMPLETE_SOURCE_MAJOR, COV_NEAR_COMPLETE, COV_COUNT
};
static const char *COV_NAMES[COV_COUNT] = {
    "GATConv", "GATv2Conv", "GATv2 shared", "mean heads", "no self loops",
    "fill mean", "fill add", "fill max", "fill min", "fill mul",
    "fill const", "edge_dim 1", "edge_dim 3", "residual", "no bias",
    "act none", "act elu", "act relu", "act leaky_relu", "1 layer",
    "2 layers", "3 layers", "N=1", "E=0", "int32 index", "duplicates",
    "input self loops", "isolated nodes", "att x50", "sorted by target",
    "complete", "complete with loops", "complete as COO",
    "complete as source-major COO", "complete but one edge"};
static long coverage[COV_COUNT];

static void count_coverage(const rand_model *m, const rand_graph *g,
                           float att_scale)
{
    for (int l = 0; l < m->num_layers; l++) {
        const ref_layer *L = &m->layers[l];
        coverage[L->type == GK_LAYER_GAT ? COV_GAT : COV_GATV2]++;
        coverage[COV_GATV2_SHARED] += L->share_weights;
        coverage[COV_MEAN_HEADS] += !L->concat && L->heads > 1;
        coverage[COV_NO_LOOPS] += !L->add_self_loops;
        if (L->add_self_loops && L->edge_dim)
            coverage[COV_FILL0 + L->fill]++;
        coverage[COV_EDGE1] += L->edge_dim == 1;
        coverage[COV_EDGE3] += L->edge_dim == 3;
        coverage[COV_RESIDUAL] += L->residual;
        coverage[COV_NO_BIAS] += !L->bias;
        coverage[COV_ACT0 + L->activation]++;
    }
    coverage[COV_LAYERS1 + m->num_layers - 1]++;
    coverage[COV_N1] += g->N == 1;
    coverage[COV_E0] += g->E == 0;
    coverage[COV_I32] += g->index_type == GK_INDEX_I32;
    coverage[COV_ATT_X50] += att_scale > 1.0f;
    coverage[COV_COMPLETE] += g->complete == 1;
    coverage[COV_COMPLETE_LOOPS] += g->complete == 2;
    coverage[COV_COMPLETE_COO] += g->complete && g->via == VIA_COO;
    coverage[COV_COMPLETE_SOURCE_MAJOR] += g->complete && g->via == VIA_COO_SOURCE_MAJOR;
    coverage[COV_NEAR_COMPLETE] += g->complete && g->via == VIA_COO_NEAR_COMPLETE;
    int dup = 0, loop = 0, sorted = !g->complete && g->E > 1;
    size_t touched = 0;
    for (size_t e = 1; e < g->E; e++) sorted &= g->dst[e] >= g->dst[e - 1];
    coverage[COV_SORTED] += sorted;
    char *seen = calloc(g->N + 1, 1);
    for (size_t e = 0; e < g->E; e++) {
        loop |= g->src[e] == g->dst[e];
        for (size_t k = 0; k < e && !dup; k++)
            dup = g->src[k] == g->src[e] && g->dst[k] == g->dst[e];
        if (seen && !seen[g->src[e]]++)
            touched++;
        if (seen && !seen[g->dst[e]]++)
            touched++;
    }
    free(seen);
    coverage[COV_DUP] += dup;
    coverage[COV_SELF_LOOP] += loop;
    coverage[COV_ISOLATED] += touched < g->N;
}

/* ---- one seed --------------------------------------------------------- */

static tu_isa ISAS[TU_MAX_ISAS];  /* tu_all_isas(), in main */
static size_t NUM_ISAS;

static void describe(const rand_model *m, const rand_graph *g)
{
    printf("    model: %s\n", m->json);
    printf("    graph: N=%zu E=%zu D=%d via=%d index=%s%s edges:", g->N, g->E, g->D, g->via,
           g->index_type == GK_INDEX_I64 ? "i64" : "i32",
           g->complete ? (g->complete == 2 ? " complete+loops" : " complete") : "");
    for (size_t e = 0; e < g->E && e < 40; e++)
        printf(" %lld->%lld", (long long)g->src[e], (long long)g->dst[e]);
    printf("%s\n", g->E > 40 ? " ..." : "");
}

static int run_seed(uint64_t seed, double *worst, int *skipped_isa)
{
    rand_model m;
    rand_graph g;
    gk_model *model = NULL;
    gk_error err;
    uint8_t *buf = NULL;
    size_t size = 0;
    int fail = 0;

    rng_state = seed * 0x2545F4914F6CDD1Dull + 1;
    float att_scale = rng_int(0, 4) == 0 ? 50.0f : 1.0f;
    if (random_model(&m, att_scale) != 0 ||
        random_graph(&g, m.layers[0].in_channels, m.edge_dim) != 0) {
        printf("seed %llu: out of memory building the case\n",
               (unsigned long long)seed);
        return 1;
    }
    count_coverage(&m, &g, att_scale);
    int H_last = m.layers[m.num_layers - 1].out_width;
    double *y_ref = calloc(g.N * (size_t)H_last + 1, sizeof(double));
    float *y = calloc(g.N * (size_t)H_last + 1, sizeof(float));
    ref_attention att[MAX_LAYERS];
    memset(att, 0, sizeof att);

    if (ref_forward(m.layers, m.num_layers, g.N, g.E, g.src, g.dst,
                    m.edge_dim ? g.attr_d : NULL, m.edge_dim, g.x_d, y_ref,
                    att) != 0) {
        printf("seed %llu: reference failed\n", (unsigned long long)seed);
        fail = 1;
        goto out;
    }
    if (gk_st_serialize(m.out, m.num_tensors, m.json, &buf, &size, &err) !=
            GK_OK ||
        gk_model_load_buffer(buf, size, &model, &err) != GK_OK) {
        printf("seed %llu: FAIL serialize/load: %s\n",
               (unsigned long long)seed, err.message);
        describe(&m, &g);
        fail = 1;
        goto out;
    }
    for (size_t k = 0; k < NUM_ISAS; k++) {
        gk_plan_options opt = gk_plan_default_options();
        gk_plan *plan = NULL;
        gk_graph *graph = NULL;
        opt.isa = ISAS[k].isa;
        opt.keep_attention = 1;
        gk_status st = gk_plan_create(model, g.N, g.E, &opt, &plan, &err);
        if (st == GK_EISA) {
            skipped_isa[k] = 1;
            continue;
        }
        const char *stage = "gk_plan_create";
        if (st == GK_OK && g.complete && g.via == VIA_SET_COMPLETE) {
            stage = "gk_graph_set_complete";
            st = gk_graph_create(model, g.N, g.E, &graph, &err);
            if (st == GK_OK)
                st = gk_graph_set_complete(graph, g.N, g.complete == 2,
                                           m.edge_dim ? g.attr_f : NULL, &err);
        } else if (st == GK_OK) {
            stage = "gk_graph_from_coo";
            st = gk_graph_from_coo(model, g.N, g.E, g.edge_index,
                                   g.index_type,
                                   m.edge_dim ? g.attr_f : NULL, &graph,
                                   &err);
        }
        if (st == GK_OK) {
            stage = "gk_infer";
            st = gk_infer(plan, graph, g.x_f, y, &err);
        }
        if (st != GK_OK) {
            printf("seed %llu [%s]: FAIL %s: %s\n", (unsigned long long)seed,
                   ISAS[k].name, stage, err.message);
            describe(&m, &g);
            fail = 1;
        } else {
            size_t ny = g.N * (size_t)H_last;
            double e = ref_rel_error_f32(y, y_ref, ny);
            double ea = 0.0;
            char why[256] = "";
            for (int l = 0; l < m.num_layers; l++) {
                double el = attention_error(plan, graph, l, &att[l], why,
                                            sizeof why);
                if (!(el <= ea))
                    ea = el;
            }
            if (e > *worst)
                *worst = e;
            if (!(e < TOL) || !(ea < TOL)) {
                printf("seed %llu [%s]: FAIL y err %.3e, attention err %.3e "
                       "%s (att x%g)\n",
                       (unsigned long long)seed, ISAS[k].name, e, ea, why,
                       (double)att_scale);
                describe(&m, &g);
                for (size_t i = 0; i < ny && i < 12; i++)
                    printf("      y[%zu] lib %.9g ref %.9g\n", i,
                           (double)y[i], y_ref[i]);
                fail = 1;
            }
        }
        gk_graph_free(graph);
        gk_plan_free(plan);
    }
out:
    free(buf);
    gk_model_free(model);
    for (int l = 0; l < m.num_layers; l++)
        ref_attention_free(&att[l]);
    free(y);
    free(y_ref);
    free_model(&m);
    free_graph(&g);
    return fail;
}

int main(int argc, char **argv)
{
    NUM_ISAS = tu_all_isas(ISAS);
    int seeds = argc > 2 ? atoi(argv[2]) : 2000;
    uint64_t first = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    int failures = 0;
    double worst = 0.0;
    int skipped[TU_MAX_ISAS] = {0};
    for (int s = 0; s < seeds; s++)
        failures += run_seed(first + (uint64_t)s, &worst, skipped);
    for (size_t k = 0; k < NUM_ISAS; k++)
        if (skipped[k])
            printf("ISA %s not available on this CPU: skipped\n",
                   ISAS[k].name);
    printf("coverage (layers or seeds):");
    for (int c = 0; c < COV_COUNT; c++)
        printf("%s %s %ld", c ? "," : "", COV_NAMES[c], coverage[c]);
    printf("\n");
    printf("%d/%d random seeds pass (worst y error %.3e, tolerance %.0e)\n",
           seeds - failures, seeds, worst, TOL);
    return failures ? 1 : 0;
}
