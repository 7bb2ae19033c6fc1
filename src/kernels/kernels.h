/* The kernel interface shared by the generic path and the generated kernels.
 *
 * A layer runs in three phases, each over a range so that threads can split
 * it by rows (no phase may write outside its range, except `prepare`, which
 * runs once over all nodes on one thread):
 *
 *   transform  rows [begin, end):  t[i, :] = x[i, :] · w_fused (+ b_fused)
 *   prepare    once:               per-node factors in node_scratch
 *   aggregate  targets [begin, end): softmax over incoming edges, weighted
 *              sum, concat/mean, + residual, + bias, activation -> y; and the
 *              attention weights into alpha when alpha != NULL
 *
 * Kernels never allocate, lock or call the system. */
#ifndef GK_KERNELS_H
#define GK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "layout.h"  /* gk_t_stride */
#include "model.h"

typedef struct gk_layer_run {
    const gk_layer *layer;
    const gk_graph_view *view;
    size_t num_nodes;
    int edge_dim;                /* D of view->attr rows (0: none)         */
    const float *x;              /* layer input  [n, in_channels]          */
    float *t;                    /* transform    [n, t_stride]             */
    size_t t_stride;             /* layer->cols rounded up to 16           */
    float *y;                    /* layer output [n, out_width]            */
    float *alpha;                /* [view->num_edges, heads] or NULL       */
    float *node_scratch;         /* gk_node_scratch_floats(layer, n) floats */
    int32_t *node_iscratch;      /* gk_node_scratch_ints(layer, n) ints    */
    float *row_scratch;          /* per thread, gk_row_scratch_floats()    */
    const struct gk_blis_kernel *blis;        /* the generic transform's GEMM */
    const struct gk_packed_weights *packed;   /* this layer's packed w_fused */
    float *pack_scratch;         /* per thread, gk_blis_pack_floats()       */
} gk_layer_run;

typedef void (*gk_phase_fn)(const gk_layer_run *run, size_t begin, size_t end);

/* Kernels chosen for one layer. `prepare` may be NULL. The *_complete set is
 * used instead when the layer's view is a complete graph; NULL if none. */
typedef struct gk_layer_kernels {
    const char *name;            /* e.g. "gk_f32_gat_agg_h4c16__avx512"    */
    gk_phase_fn transform;
    gk_phase_fn prepare;
    gk_phase_fn aggregate;
    const char *complete_name;
    gk_phase_fn complete_prepare;
    gk_phase_fn complete_aggregate;
} gk_layer_kernels;

/* Rows per block of the generated CSR aggregations (at most; ROW_BLOCK in
 * codegen/gen.py): their row_scratch holds, after the H·C floats of the
 * exact fallback (rounded up to 16), the head sums of a block of rows. */
#define GK_ROW_BLOCK 16

/* The complete-graph kernels with edge features keep, per source node (for
 * n rounded up by 16), a tile of target rows' weights, the source's scores
 * and its edge features in row_scratch after the row block's head sums: at
 * most this many floats (TILE_FLOATS_PER_NODE in codegen/gen.py). */
#define GK_TILE_FLOATS_PER_NODE 64

/* Scratch sizes a plan allocates per layer (the max over layers); the row
 * stride of t, gk_t_stride, is the column layout's (layout.h). */
size_t gk_node_scratch_floats(const gk_layer *layer, size_t max_nodes);
size_t gk_node_scratch_ints(const gk_layer *layer, size_t max_nodes);
size_t gk_row_scratch_floats(const gk_layer *layer, size_t max_nodes, size_t max_edges);

/* The generic path: BLIS for the transform, plain C for the rest. */
void gk_generic_transform(const gk_layer_run *run, size_t begin, size_t end);
void gk_generic_aggregate(const gk_layer_run *run, size_t begin, size_t end);
extern const gk_layer_kernels gk_generic_kernels;

/* The BLIS context (kernels and block sizes) for this CPU, chosen once per
 * plan: Debian's BLIS 0.9 does not recognize every CPU it has kernels for
 * and then falls back to its reference kernels. NULL: BLIS's own choice. */
const void *gk_generic_blas_context(void);

/* The epilogue every aggregation ends with, on one target row: out holds the
 * aggregated heads (H·C floats); writes y_row[out_width] = act(combine(out)
 * + residual + bias). */
void gk_epilogue_row(const gk_layer *layer, const float *out,
                     const float *t_row, float *y_row);

#endif
