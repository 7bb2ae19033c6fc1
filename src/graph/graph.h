/* Graph in CSR-by-target form, once per self-loop policy the model needs.
 *
 * Layers that share (add_self_loops, fill) share one CSR "view". A view with
 * add_self_loops drops every input self loop and appends one loop per node at
 * the end of its row, with edge features filled per PyG's fill_value. */
#ifndef GK_GRAPH_H
#define GK_GRAPH_H

#include <stdint.h>

#include "graphkern.h"

#define GK_MAX_VIEWS 8

typedef struct gk_graph_view {
    int add_self_loops;
    gk_fill fill;
    float fill_constant;
    int32_t *row_ptr;            /* [max_nodes + 1]                       */
    int32_t *src;                /* [capacity] source node of each edge   */
    float *attr;                 /* [capacity, D] or NULL                 */
    size_t num_edges;
    size_t max_in_degree;
    int is_complete;             /* every (j, i) pair present exactly once */
    int complete_canonical;      /* ... and every row in canonical order:
                                    sources ascending, the loop last when
                                    add_self_loops (else in place) */
    size_t complete_key;         /* rows written by gk_graph_set_complete for
                                    this key (graph_build.c); 0: not        */
} gk_graph_view;

struct gk_graph {
    uint64_t layout;             /* must equal the model's layout         */
    int edge_dim;
    size_t max_nodes, max_edges;
    size_t num_nodes, num_edges;
    int num_views;
    gk_graph_view views[GK_MAX_VIEWS];
    int num_layers;
    int *layer_view;             /* [num_layers] index into views         */
    int32_t *scratch;            /* [max_nodes] counting / marking         */
};

/* Which view a layer needs, and the layout signature of a whole model. */
uint64_t gk_layout_signature(const gk_model *model);

/* What gk_graph_create checks before it allocates (max_nodes >= 1, int32
 * CSR indices, edge-feature bytes, at most GK_MAX_VIEWS self-loop
 * policies), for the creators of several graphs to check once, first.
 * caller names the public function in messages. */
gk_status gk_graph_check_capacity(const gk_model *model, size_t max_nodes,
                                  size_t max_edges, const char *caller,
                                  gk_error *err);

/* Edges already grouped by target, as the correlation builder picks them,
 * with a free slot after each row (where a view's own loop goes, so that
 * such a view takes the rows as one block): row i's sources are
 * src[row_end[i - 1] + 1 .. row_end[i]) (from 0 for i = 0), each a node
 * in [0, n) other than i, with edge_dim features each in attr (NULL when
 * the graph has none). The free slots' features must be finite (they are
 * checked with the rest; their values and sources do not matter). Every view comes out as gk_graph_set_coo builds it from the
 * same edges in that order, without the passes that check the indices and
 * find the rows, which the caller guarantees; sizes and features are
 * checked as there. */
gk_status gk_graph_set_rows(gk_graph *g, size_t n, const int32_t *row_end,
                            const int32_t *src, const float *attr, gk_error *err);

#endif
