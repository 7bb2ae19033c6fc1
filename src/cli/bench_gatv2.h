/* graphkern bench --gatv2: GATv2Conv models of the reference models' shapes. */
#ifndef GK_BENCH_GATV2_H
#define GK_BENCH_GATV2_H

#include "graphkern.h"

/* A GATv2Conv model with the layer shapes and settings of `ref` (a format-1
 * GATConv model: same F_in, heads, channels, concat, edge_dim, bias, self
 * loops, activation; share_weights false, PyG's default) and random weights
 * from a fixed seed, built in memory and loaded like any model. */
gk_status bench_gatv2_model(const gk_model *ref, gk_model **out, gk_error *err);

#endif
