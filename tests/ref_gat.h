/* An independent float64 reference of PyG 2.6 GATConv / GATv2Conv forward.
 *
 * Written plainly from the RAW PyG weights (lin.weight, att_src, ...), not
 * from the library's folded ones, so that the tests compare two different
 * computations. Slow on purpose: no decomposition, no factorized exp, one
 * exp per edge and head, the edge list rebuilt exactly as PyG builds it
 * (remove_self_loops, then add_self_loops appending one loop per node). */
#ifndef GK_REF_GAT_H
#define GK_REF_GAT_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"

/* One layer: its config (same fields as gk_layer_info) and raw weights as
 * PyG's state_dict holds them, row-major, converted to double. Arrays a
 * layer does not use are NULL. */
typedef struct ref_layer {
    gk_layer_type type;
    int in_channels;          /* F                                        */
    int out_channels;         /* C, per head                              */
    int heads;                /* H                                        */
    int concat;
    double negative_slope;
    int add_self_loops;
    gk_fill fill;
    double fill_constant;
    int edge_dim;             /* D, 0: layer ignores edge features        */
    int bias;
    int residual;
    int share_weights;        /* GATv2Conv                                */
    gk_activation activation;
    int out_width;            /* H*C if concat else C                     */

    /* GATConv */
    double *lin_w;            /* [H*C, F]                                 */
    double *att_src;          /* [H*C]                                    */
    double *att_dst;          /* [H*C]                                    */
    double *att_edge;         /* [H*C] when edge_dim                      */
    /* GATv2Conv */
    double *lin_l_w;          /* [H*C, F]                                 */
    double *lin_l_b;          /* [H*C]                                    */
    double *lin_r_w;          /* [H*C, F] (== lin_l_w if share_weights)   */
    double *lin_r_b;          /* [H*C]                                    */
    double *att;              /* [H*C]                                    */
    /* both */
    double *lin_edge_w;       /* [H*C, D] when edge_dim                   */
    double *bias_v;           /* [out_width] when bias                    */
    double *res_w;            /* [out_width, F] when residual             */
} ref_layer;

/* The edges one layer attends over (after self-loop handling, in PyG's
 * order: kept input edges, then loops 0..N-1) and their attention
 * weights alpha[e*H + h]. */
typedef struct ref_attention {
    size_t num_edges;
    int heads;
    int64_t *src;
    int64_t *dst;
    double *alpha;
} ref_attention;

void ref_attention_free(ref_attention *a);

/* Width of layer L's output (H*C if concat else C). */
int ref_layer_out_width(const ref_layer *L);

/* Allocate (zeroed) every weight array the layer's config needs; the
 * config fields must be set. Returns 0 on success. */
int ref_layer_alloc(ref_layer *L);
void ref_layer_free(ref_layer *L);

/* One layer: y[N, out_width] = layer(x[N, F]) on the COO graph
 * (src[e] -> dst[e], e < E) with edge_attr [E, D] or NULL (D = edge_dim of
 * the graph; only read if the layer has edge_dim > 0, then D must equal
 * it). If att is not NULL it receives the layer's edges and alpha.
 * Returns 0 on success, -1 on a bad argument or allocation failure. */
int ref_layer_forward(const ref_layer *L, size_t N, size_t E,
                      const int64_t *src, const int64_t *dst,
                      const double *edge_attr, int D, const double *x,
                      double *y, ref_attention *att);

/* All layers on the same input graph; y is [N, last layer's out_width].
 * att, when not NULL, is an array of num_layers ref_attention. */
int ref_forward(const ref_layer *layers, int num_layers, size_t N, size_t E,
                const int64_t *src, const int64_t *dst,
                const double *edge_attr, int D, const double *x, double *y,
                ref_attention *att);

/* The fixture metric: max|y - y_ref| / max(1, max|y_ref|). */
double ref_rel_error_f32(const float *y, const double *y_ref, size_t n);
double ref_rel_error_f64(const double *y, const double *y_ref, size_t n);

#endif
