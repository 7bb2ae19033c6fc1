/* COO edge lists -> CSR by target, once per self-loop policy of the model.
 *
 * Validation happens here, once per graph, so that inference can trust the
 * graph: every index is in range, every edge feature finite, every size
 * within capacity. Building never allocates: gk_graph_create sizes every
 * buffer for the worst case. */
#include "graph.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "model.h"
#include "program.h"

/* ---- layout: which CSR view each layer reads ----------------------------- */

typedef struct view_key {
    int add_self_loops;
    gk_fill fill;          /* only meaningful with loops and edge features */
    float fill_constant;
} view_key;

static view_key layer_view_key(const gk_layer *layer, int edge_dim) {
    view_key key = {layer->info.add_self_loops, GK_FILL_MEAN, 0.0f};
    if (key.add_self_loops && edge_dim > 0 && layer->info.edge_dim > 0) {
        key.fill = layer->info.fill;
        key.fill_constant = layer->info.fill == GK_FILL_CONSTANT
                                ? layer->info.fill_constant : 0.0f;
    }
    return key;
}

static int same_key(view_key a, view_key b) {
    return a.add_self_loops == b.add_self_loops && a.fill == b.fill &&
           memcmp(&a.fill_constant, &b.fill_constant, sizeof(float)) == 0;
}

static uint64_t mix(uint64_t h, uint64_t v) {  /* FNV-1a over 64-bit words */
    return (h ^ v) * 0x100000001b3ULL;
}

uint64_t gk_layout_signature(const gk_model *model) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = mix(h, (uint64_t)model->edge_dim);
    h = mix(h, (uint64_t)model->num_layers);
    for (int l = 0; l < model->num_layers; l++) {
        view_key k = layer_view_key(&model->layers[l], model->edge_dim);
        uint32_t bits;
        memcpy(&bits, &k.fill_constant, sizeof bits);
        h = mix(h, ((uint64_t)k.add_self_loops << 40) |
                   ((uint64_t)k.fill << 32) | bits);
    }
    return h | 1;  /* never 0, so a zeroed struct never matches */
}

/* ---- creation ------------------------------------------------------------ */

static gk_status alloc_view(gk_graph_view *v, size_t max_nodes, size_t cap,
                            int edge_dim, gk_error *err) {
    v->row_ptr = gk_calloc_array(max_nodes + 1, sizeof(int32_t));
    v->src = gk_calloc_array(cap, sizeof(int32_t));
    v->input_edge = gk_calloc_array(cap, sizeof(int32_t));
    if (edge_dim > 0) v->attr = gk_calloc_array(cap, (size_t)edge_dim * sizeof(float));
    if (!v->row_ptr || !v->src || !v->input_edge || (edge_dim > 0 && !v->attr))
        return gk_fail(err, GK_ENOMEM, "graph: cannot allocate CSR for %zu edges", cap);
    return GK_OK;
}

static int count_views(const gk_model *model) {
    view_key keys[GK_MAX_VIEWS + 1];
    int count = 0;
    for (int l = 0; l < model->num_layers && count <= GK_MAX_VIEWS; l++) {
        view_key k = layer_view_key(&model->layers[l], model->edge_dim);
        int v = 0;
        while (v < count && !same_key(keys[v], k)) v++;
        if (v == count) keys[count++] = k;
    }
    return count;
}

gk_status gk_graph_check_capacity(const gk_model *model, size_t max_nodes,
                                  size_t max_edges, const char *caller,
                                  gk_error *err) {
    if (max_nodes == 0)
        return gk_fail(err, GK_EINVAL, "%s: max_nodes must be >= 1", caller);
    /* CSR indices are int32: every view must fit, loops included. */
    if (max_nodes > INT32_MAX - 1 || max_edges > (size_t)INT32_MAX - max_nodes)
        return gk_fail(err, GK_EOVERFLOW,
                       "%s: %zu nodes + %zu edges exceed int32 indexing (nodes + "
                       "edges <= %d)", caller, max_nodes, max_edges, INT32_MAX);
    size_t cap = max_edges + max_nodes;
    if (model->edge_dim > 0 && cap > SIZE_MAX / sizeof(float) / (size_t)model->edge_dim)
        return gk_fail(err, GK_EOVERFLOW, "%s: edge features overflow", caller);
    if (count_views(model) > GK_MAX_VIEWS)
        return gk_fail(err, GK_EUNSUPPORTED,
                       "%s: model needs more than %d self-loop policies", caller,
                       GK_MAX_VIEWS);
    return GK_OK;
}

gk_status gk_graph_create(const gk_model *model, size_t max_nodes,
                          size_t max_edges, gk_graph **out, gk_error *err) {
    if (!model || !out) return gk_fail(err, GK_EINVAL, "gk_graph_create: NULL argument");
    *out = NULL;
    if (model->program) {  /* format 2: the graph of its one edge set */
        if (model->program->num_groups != 1)
            return gk_fail(err, GK_EUNSUPPORTED, "gk_graph_create: the model has %d edge "
                           "sets; gk_infer_named builds its graphs itself",
                           model->program->num_groups);
        model = model->program->groups[0].model;
    }
    gk_status st = gk_graph_check_capacity(model, max_nodes, max_edges,
                                           "gk_graph_create", err);
    if (st != GK_OK) return st;
    size_t cap = max_edges + max_nodes;

    gk_graph *g = gk_alloc(sizeof *g);
    if (!g) return gk_fail(err, GK_ENOMEM, "gk_graph_create: out of memory");
    g->layout = gk_layout_signature(model);
    g->edge_dim = model->edge_dim;
    g->max_nodes = max_nodes;
    g->max_edges = max_edges;
    g->num_layers = model->num_layers;
    g->layer_view = gk_calloc_array((size_t)model->num_layers, sizeof(int));
    g->scratch = gk_calloc_array(2 * (max_nodes + 1), sizeof(int32_t));
    st = (g->layer_view && g->scratch)
             ? GK_OK
             : gk_fail(err, GK_ENOMEM, "gk_graph_create: out of memory");

    view_key keys[GK_MAX_VIEWS];
    for (int l = 0; st == GK_OK && l < model->num_layers; l++) {
        view_key k = layer_view_key(&model->layers[l], model->edge_dim);
        int v = 0;
        while (v < g->num_views && !same_key(keys[v], k)) v++;
        if (v == g->num_views) {  /* count_views kept this within GK_MAX_VIEWS */
            keys[v] = k;
            gk_graph_view *view = &g->views[g->num_views++];
            view->add_self_loops = k.add_self_loops;
            view->fill = k.fill;
            view->fill_constant = k.fill_constant;
            st = alloc_view(view, max_nodes, k.add_self_loops ? cap : max_edges,
                            model->edge_dim, err);
        }
        g->layer_view[l] = v;
    }
    if (st != GK_OK) {
        gk_graph_free(g);
        return st;
    }
    *out = g;
    gk_ok(err);
    return GK_OK;
}

void gk_graph_free(gk_graph *g) {
    if (!g) return;
    for (int v = 0; v < g->num_views; v++) {
        gk_free(g->views[v].row_ptr);
        gk_free(g->views[v].src);
        gk_free(g->views[v].input_edge);
        gk_free(g->views[v].attr);
    }
    gk_free(g->layer_view);
    gk_free(g->scratch);
    gk_free(g);
}

/* ---- validation ----------------------------------------------------------- */

static int64_t edge_end(const void *edge_index, gk_index_type type, size_t i) {
    return type == GK_INDEX_I64 ? ((const int64_t *)edge_index)[i]
                                : ((const int32_t *)edge_index)[i];
}

static gk_status check_indices(size_t n, size_t e, const void *edge_index,
                               gk_index_type type, gk_error *err) {
    for (size_t k = 0; k < 2 * e; k++) {
        int64_t v = edge_end(edge_index, type, k);
        if (v < 0 || (uint64_t)v >= n)
            return gk_fail(err, GK_EINDEX,
                           "edge_index[%d][%zu] = %lld is not a node in [0, %zu)",
                           k < e ? 0 : 1, k < e ? k : k - e, (long long)v, n);
    }
    return GK_OK;
}

static gk_status check_attr(size_t e, int d, const float *attr, gk_error *err) {
    for (size_t k = 0; k < e * (size_t)d; k++)
        if (!isfinite(attr[k]))
            return gk_fail(err, GK_ENONFINITE, "edge_attr[%zu][%zu] is %f",
                           k / (size_t)d, k % (size_t)d, (double)attr[k]);
    return GK_OK;
}

/* ---- CSR construction ------------------------------------------------------ */

/* Self-loop feature of one node from its row's other edges (PyG's
 * add_self_loops with a string fill_value reduces over the target index;
 * an empty row gives 0, or 1 for "mul" whose reduction starts from ones). */
static void fill_loop_attr(const gk_graph_view *v, int d, size_t first,
                           size_t count, float *loop) {
    for (int k = 0; k < d; k++) {
        double acc;
        switch (v->fill) {
        case GK_FILL_CONSTANT: acc = v->fill_constant; break;
        case GK_FILL_MUL: acc = 1.0; break;
        case GK_FILL_MAX: acc = count ? -INFINITY : 0.0; break;
        case GK_FILL_MIN: acc = count ? INFINITY : 0.0; break;
        default: acc = 0.0; break;
        }
        for (size_t e = first; e < first + count && v->fill != GK_FILL_CONSTANT; e++) {
            double a = v->attr[e * (size_t)d + (size_t)k];
            switch (v->fill) {
            case GK_FILL_MUL: acc *= a; break;
            case GK_FILL_MAX: acc = a > acc ? a : acc; break;
            case GK_FILL_MIN: acc = a < acc ? a : acc; break;
            default: acc += a; break;
            }
        }
        if (v->fill == GK_FILL_MEAN && count) acc /= (double)count;
        loop[k] = (float)acc;
    }
}

/* A complete view holds every (j, i) pair exactly once. */
static int view_is_complete(const gk_graph_view *v, size_t n, int32_t *mark) {
    for (size_t i = 0; i < n; i++) mark[i] = -1;
    for (size_t i = 0; i < n; i++) {
        if ((size_t)(v->row_ptr[i + 1] - v->row_ptr[i]) != n) return 0;
        for (int32_t e = v->row_ptr[i]; e < v->row_ptr[i + 1]; e++) {
            if (mark[v->src[e]] == (int32_t)i) return 0;
            mark[v->src[e]] = (int32_t)i;
        }
    }
    return 1;
}

static void build_view(gk_graph *g, gk_graph_view *v, size_t n, size_t e,
                       const void *edge_index, gk_index_type type,
                       const float *attr) {
    int d = g->edge_dim;
    int32_t *cursor = g->scratch;
    int loops = v->add_self_loops;

    memset(cursor, 0, (n + 1) * sizeof *cursor);
    for (size_t k = 0; k < e; k++) {
        int64_t s = edge_end(edge_index, type, k), t = edge_end(edge_index, type, e + k);
        if (!(loops && s == t)) cursor[t + 1]++;
    }
    v->row_ptr[0] = 0;
    for (size_t i = 0; i < n; i++)  /* row i also reserves its loop slot */
        v->row_ptr[i + 1] = v->row_ptr[i] + cursor[i + 1] + loops;
    for (size_t i = 0; i < n; i++) cursor[i] = v->row_ptr[i];

    for (size_t k = 0; k < e; k++) {
        int64_t s = edge_end(edge_index, type, k), t = edge_end(edge_index, type, e + k);
        if (loops && s == t) continue;
        int32_t pos = cursor[t]++;
        v->src[pos] = (int32_t)s;
        v->input_edge[pos] = (int32_t)k;
        if (d > 0 && attr)
            memcpy(v->attr + (size_t)pos * (size_t)d, attr + k * (size_t)d,
                   (size_t)d * sizeof(float));
    }
    v->max_in_degree = 0;
    for (size_t i = 0; i < n; i++) {
        size_t first = (size_t)v->row_ptr[i];
        size_t count = (size_t)(v->row_ptr[i + 1] - v->row_ptr[i]);
        if (loops) {
            size_t slot = first + count - 1;
            v->src[slot] = (int32_t)i;
            v->input_edge[slot] = -1;
            if (d > 0) fill_loop_attr(v, d, first, count - 1, v->attr + slot * (size_t)d);
        }
        if (count > v->max_in_degree) v->max_in_degree = count;
    }
    v->num_edges = (size_t)v->row_ptr[n];
    v->is_complete = view_is_complete(v, n, g->scratch + g->max_nodes + 1);
}

gk_status gk_graph_set_coo(gk_graph *g, size_t n, size_t e,
                           const void *edge_index, gk_index_type type,
                           const float *edge_attr, gk_error *err) {
    if (!g) return gk_fail(err, GK_EINVAL, "gk_graph_set_coo: NULL graph");
    /* Any failure leaves the graph empty (gk_infer refuses it), never still
     * holding the previous edges as if this call had not happened. */
    g->num_nodes = g->num_edges = 0;
    if (n == 0) return gk_fail(err, GK_EINVAL, "graph needs at least one node");
    if (type != GK_INDEX_I32 && type != GK_INDEX_I64)
        return gk_fail(err, GK_EINVAL, "unknown edge_index type %d", (int)type);
    if (e > 0 && !edge_index) return gk_fail(err, GK_EINVAL, "edge_index is NULL");
    if (n > g->max_nodes)
        return gk_fail(err, GK_ELIMIT, "%zu nodes exceed the graph's capacity of %zu",
                       n, g->max_nodes);
    if (e > g->max_edges)
        return gk_fail(err, GK_ELIMIT, "%zu edges exceed the graph's capacity of %zu",
                       e, g->max_edges);
    if (g->edge_dim > 0 && e > 0 && !edge_attr)
        return gk_fail(err, GK_EINVAL, "the model has edge_dim %d: edge_attr is required",
                       g->edge_dim);
    gk_status st = check_indices(n, e, edge_index, type, err);
    if (st == GK_OK && g->edge_dim > 0 && edge_attr)
        st = check_attr(e, g->edge_dim, edge_attr, err);
    if (st != GK_OK) return st;
    for (int v = 0; v < g->num_views; v++)
        build_view(g, &g->views[v], n, e, edge_index, type, edge_attr);
    g->num_nodes = n;
    g->num_edges = e;
    gk_ok(err);
    return GK_OK;
}

gk_status gk_graph_from_coo(const gk_model *model, size_t n, size_t e,
                            const void *edge_index, gk_index_type type,
                            const float *edge_attr, gk_graph **out, gk_error *err) {
    if (!out) return gk_fail(err, GK_EINVAL, "gk_graph_from_coo: NULL out");
    *out = NULL;
    gk_graph *g = NULL;
    gk_status st = gk_graph_create(model, n ? n : 1, e, &g, err);
    if (st != GK_OK) return st;
    st = gk_graph_set_coo(g, n, e, edge_index, type, edge_attr, err);
    if (st != GK_OK) {
        gk_graph_free(g);
        return st;
    }
    *out = g;
    return GK_OK;
}

size_t gk_graph_num_nodes(const gk_graph *g) { return g ? g->num_nodes : 0; }
size_t gk_graph_num_edges(const gk_graph *g) { return g ? g->num_edges : 0; }

size_t gk_graph_layer_edges(const gk_graph *g, int layer, int64_t *src,
                            int64_t *dst, size_t capacity) {
    if (!g || layer < 0 || layer >= g->num_layers) return 0;
    const gk_graph_view *v = &g->views[g->layer_view[layer]];
    for (size_t i = 0; i < g->num_nodes; i++)
        for (int32_t e = v->row_ptr[i]; e < v->row_ptr[i + 1]; e++) {
            if ((size_t)e >= capacity) return v->num_edges;
            if (src) src[e] = v->src[e];
            if (dst) dst[e] = (int64_t)i;
        }
    return v->num_edges;
}
