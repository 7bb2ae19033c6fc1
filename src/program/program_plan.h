/* The schedule of a version-2 model inside a gk_plan (program_plan.c) and
 * its execution (program_run.c). */
#ifndef GK_PROGRAM_PLAN_H
#define GK_PROGRAM_PLAN_H

#include "kernels.h"
#include "program.h"

/* A linear op on a generated transform kernel: y = x·W (+ b) with W laid
 * out as the kernel reads a layer's w_fused ([in, ts], zero past out). */
typedef struct gk_dense {
    gk_phase_fn fn;              /* NULL: the per-ISA loop (ops_linear.c)  */
    const char *name;
    gk_layer layer;              /* w_fused, b_fused only                  */
    size_t ts;                   /* output columns, out rounded up to 16   */
    gk_phase_fn rnn_gates;       /* RNN gate products x·W_ih^T, h·W_hh^T  */
} gk_dense;

typedef struct gk_program_plan {
    const gk_program *prog;
    size_t max_nodes, max_edges;
    gk_graph **graphs;           /* [num_groups] built per call            */
    gk_plan **plans;             /* [num_groups] the convs' layer plans    */
    float *arena;                /* every value's storage                  */
    size_t arena_floats;
    size_t *offset;              /* [num_values] place in the arena        */
    int *root;                   /* [num_values] value whose storage it is */
    const float **ptr;           /* [num_values] this call's data          */
    float *scratch;              /* the largest op scratch                 */
    gk_dense *dense;             /* [num_ops]                              */
    unsigned char int32_input[64];  /* this call: integer input i is int32 */
    size_t scratch_floats;
} gk_program_plan;

gk_status gk_program_plan_create(const gk_program *prog, size_t max_nodes,
                                 size_t max_edges, const gk_plan_options *opt,
                                 gk_program_plan **out, gk_error *err);
void gk_program_plan_free(gk_program_plan *pp);
size_t gk_program_plan_describe(const gk_program_plan *pp, gk_isa isa, char *buf,
                                size_t size);

/* Run layers [first, last] of a layer plan on graph g: x is layer first's
 * input, y layer last's output (infer.c; threads as gk_infer). */
void gk_plan_run_layers(gk_plan *p, const gk_graph *g, int first, int last,
                        const float *x, float *y);

/* The legacy gk_infer on a version-2 plan: one node input, one edge set,
 * one output, the graph given. */
gk_status gk_program_infer_graph(gk_plan *p, const gk_graph *g, const float *x,
                                 float *y, gk_error *err);

#endif
