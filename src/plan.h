/* The plan object, shared by plan creation, inference and the describer. */
#ifndef GK_PLAN_H
#define GK_PLAN_H

#include "kernels.h"

struct gk_plan {
    const gk_model *model;       /* must outlive the plan                 */
    uint64_t layout;             /* gk_layout_signature(model)            */
    size_t max_nodes, max_edges;
    gk_plan_options options;
    gk_isa isa;                  /* resolved: never GK_ISA_AUTO           */
    gk_layer_kernels *kernels;   /* [num_layers]                          */
    char (*reasons)[160];        /* [num_layers] why each was chosen      */
    float *t;                    /* [max_nodes, model->max_cols]          */
    float *act[2];               /* ping-pong layer outputs               */
    float *node_scratch;
    int32_t *node_iscratch;
    float *row_scratch;
    float **alpha;               /* [num_layers][edges·heads] or NULL     */
    size_t *alpha_edges;         /* edges in alpha[l] after the last call */
};

#endif
