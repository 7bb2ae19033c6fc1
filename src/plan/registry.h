/* The table of generated kernels (generated/gk_registry.inc expanded), read
 * by the selector, the kernel tests and the benchmarks. */
#ifndef GK_REGISTRY_H
#define GK_REGISTRY_H

#include "kernels.h"

/* A transform t = x·w_fused (+ b_fused) for one output width t_stride and
 * any F_in (read from run->layer->info.in_channels at run time). */
typedef struct gk_reg_transform {
    gk_isa isa;
    int t_stride;
    const char *name;
    gk_phase_fn fn;
} gk_reg_transform;

typedef struct gk_reg_agg {
    gk_isa isa;
    int heads, channels, edge_dim, concat;
    const char *prepare_name;
    gk_phase_fn prepare;
    const char *name;
    gk_phase_fn aggregate;
} gk_reg_agg;

typedef struct gk_reg_complete {
    gk_isa isa;
    int heads, channels, concat;
    const char *prepare_name;
    gk_phase_fn prepare;
    const char *name;
    gk_phase_fn aggregate;
} gk_reg_complete;

/* A GATv2Conv aggregation (no prepare phase: the softmax is online). */
typedef struct gk_reg_gatv2 {
    gk_isa isa;
    int heads, channels, edge_dim, concat;
    const char *name;
    gk_phase_fn aggregate;
} gk_reg_gatv2;

extern const gk_reg_transform gk_reg_transforms[];
extern const size_t gk_reg_num_transforms;
extern const gk_reg_agg gk_reg_aggs[];
extern const size_t gk_reg_num_aggs;
extern const gk_reg_complete gk_reg_completes[];
extern const size_t gk_reg_num_completes;
extern const gk_reg_gatv2 gk_reg_gatv2s[];
extern const size_t gk_reg_num_gatv2s;

/* Lookups; NULL if the registry has no such kernel. */
const gk_reg_transform *gk_reg_find_transform(gk_isa isa, int t_stride);
const gk_reg_agg *gk_reg_find_agg(gk_isa isa, int heads, int channels,
                                  int edge_dim, int concat);
const gk_reg_complete *gk_reg_find_complete(gk_isa isa, int heads, int channels,
                                            int concat);

const gk_reg_gatv2 *gk_reg_find_gatv2(gk_isa isa, int heads, int channels,
                                      int edge_dim, int concat);

/* 1 if this CPU and OS can run kernels of `isa` (cpuid + xgetbv). */
int gk_cpu_supports(gk_isa isa);

#endif
