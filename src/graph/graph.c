/* Graphs: which CSR view each layer reads, and creating, sizing and freeing
 * them. Filling them (COO or complete -> CSR) is graph_build.c. */
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
    if (edge_dim > 0) v->attr = gk_calloc_array(cap, (size_t)edge_dim * sizeof(float));
    if (!v->row_ptr || !v->src || (edge_dim > 0 && !v->attr))
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
        gk_free(g->views[v].attr);
    }
    gk_free(g->layer_view);
    gk_free(g->scratch);
    gk_free(g);
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
