/* The loaded model: layer configs plus weights repacked for inference.
 *
 * Every layer's dense work is one fused transform: t = x · w_fused (+ b_fused)
 * with the columns laid out as below, so one GEMM yields the features, the
 * per-node attention scores and the residual together.
 *
 *   GATConv   [ h: H·C | s_src: H | s_dst: H | res: R ]
 *   GATv2Conv [ xl: H·C | xr: H·C (absent if share_weights) | res: R ]
 *
 * s_src/s_dst come from folding att_src/att_dst into lin.weight (computed in
 * float64 at load time), R is the layer's output width when residual. */
#ifndef GK_MODEL_H
#define GK_MODEL_H

#include "graphkern.h"

typedef struct gk_layer {
    gk_layer_info info;          /* info.name points at name below        */
    char name[64];
    int cols;                    /* columns of the fused transform        */
    int col_h;                   /* h (GAT) or xl (GATv2)                 */
    int col_src, col_dst;        /* GAT scores; -1 for GATv2              */
    int col_xr;                  /* GATv2 xr; == col_h if share_weights   */
    int col_res;                 /* residual; -1 if none                  */
    float *w_fused;              /* [in_channels, gk_t_stride(layer)],
                                    64-byte aligned, zero past cols       */
    float *b_fused;              /* [gk_t_stride] or NULL (GATv2 lin
                                    biases; NULL when it has none)        */
    float *att;                  /* GATv2 att [H·C]; NULL for GAT         */
    float *edge_w;               /* GAT: [D, H] = lin_edge folded with
                                    att_edge; GATv2: [D, H·C] lin_edge^T;
                                    NULL when edge_dim == 0               */
    float *bias;                 /* [out_width] or NULL                   */
} gk_layer;

struct gk_model {
    int num_layers;
    gk_layer *layers;
    int in_features;
    int out_features;
    int edge_dim;                /* D shared by all layers that use edges */
    int max_cols;                /* largest gk_t_stride over the layers   */
    int max_width;               /* widest layer input/output             */
    uint64_t layout;             /* self-loop layout signature, see graph */
    struct gk_program *program;  /* format version 2; NULL for version 1  */
};

/* Allocation helpers shared by the library (64-byte aligned, zeroed). They
 * go through gk_alloc so that tests can inject failures. */
void *gk_alloc(size_t bytes);
void *gk_calloc_array(size_t count, size_t size);  /* NULL on overflow */
void gk_free(void *p);

#endif
