/* The plan object, shared by plan creation, inference and the describer. */
#ifndef GK_PLAN_H
#define GK_PLAN_H

#include "blis_gemm.h"
#include "kernels.h"
#include "pool.h"

/* The buffers one thread needs to run a whole graph alone. A plan has one
 * per thread: gk_infer splits rows over the threads and uses workspace 0
 * plus each thread's own row_scratch; gk_infer_batch gives each thread its
 * own workspace and whole graphs. */
typedef struct gk_workspace {
    float *t;                    /* [max_nodes, model->max_cols]          */
    float *act[2];               /* ping-pong layer outputs               */
    float *node_scratch;
    int32_t *node_iscratch;
    float *row_scratch;
    float *pack_scratch;         /* the generic transform's packed x panel */
} gk_workspace;

struct gk_plan {
    const gk_model *model;       /* must outlive the plan                 */
    uint64_t layout;             /* gk_layout_signature(model)            */
    size_t max_nodes, max_edges;
    gk_plan_options options;
    gk_isa isa;                  /* resolved: never GK_ISA_AUTO           */
    gk_blis_kernel blis;         /* BLIS's micro-kernel for this CPU      */
    gk_packed_weights *packed;   /* [num_layers] w_fused packed for it    */
    gk_layer_kernels *kernels;   /* [num_layers]                          */
    char (*reasons)[160];        /* [num_layers] why each was chosen      */
    int threads;                 /* resolved, >= 1                        */
    gk_workspace *ws;            /* [threads]                             */
    gk_pool *pool;               /* NULL when threads == 1                */
    float **alpha;               /* [num_layers][edges·heads] or NULL     */
    size_t *alpha_edges;         /* edges in alpha[l] after the last call */
    struct gk_program_plan *program;  /* format 2: the schedule; else NULL */
};

#endif
