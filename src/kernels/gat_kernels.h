/* Shared by the generated GAT kernels (generated/ files): the kernel interface,
 * the node-scratch layouts they agree on between `prepare` and `aggregate`,
 * and the portable helpers they call off the hot path.
 *
 * Layouts (floats from run->node_scratch; every kernel assumes the standard
 * GATConv columns col_h = 0, col_src = H·C, col_dst = H·C + H, which the
 * selector checks):
 *   e0 (no edge features)  [0,16): D_h = max_j s_src[j,h]
 *                          16 + j·2H + [0,H): P_j = exp(s_src[j]-D)
 *                          16 + j·2H + [H,2H): Q_j = exp(ns·(s_src[j]-D))
 *   eD (edge features)     [0,16): UB_h, an upper bound of s_src + a_edge
 *   complete (per head h)  base_h = 16 + h·n·(2C+3):
 *                          K[n] sorted s_src, PS[n] suffix sums of P,
 *                          QS[n] prefix sums of Q, PH[n·C], QH[n·C] the same
 *                          weighted by h_j; then sort temporaries
 *                          tmp[n], D_h at tmp[n + h], and for n <=
 *                          GK_SMALL_N (gat_complete_*.c) a copy of the
 *                          keys padded with +inf to the vector width.
 * All fit in gk_node_scratch_floats(). */
#ifndef GK_GAT_KERNELS_H
#define GK_GAT_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

#define GK_LIKELY(x) __builtin_expect(!!(x), 1)
#define GK_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A row whose softmax sum fell below this (relative to the kernel's shift)
 * is recomputed exactly by gk_gat_row_exact: no factor may underflow. */
#define GK_SUM_FLOOR 1e-20f

/* One target row, exactly as PyG computes it (true row max, expf per edge):
 * out[H·C] = normalized heads; writes run->alpha for the row if non-NULL.
 * The fallback of the fast kernels for rows that could underflow and for
 * isolated nodes. */
void gk_gat_row_exact(const gk_layer_run *run, size_t i, float *out);

/* GATv2: alpha of target row i, recomputing its logits (in PyG's order)
 * and their max m[h], with the kernel's softmax sum[h] (a sum of exp(logit -
 * max), however the kernel shifted its logits):
 * alpha[e, h] = exp(logit - m[h]) / (sum[h] + 1e-16). Only when the plan
 * keeps attention. */
void gk_gatv2_row_alpha(const gk_layer_run *run, size_t i, const float *sum);

/* Sort keys[0:n) ascending in place and write perm (perm[r] = original index
 * of the r-th smallest). tmp_keys[n], tmp_perm[n] are scratch. Stable LSD
 * radix sort on the order-preserving bits of the floats (insertion sort
 * for small n). Keys must not be NaN. */
void gk_sort_keys(float *keys, int32_t *perm, size_t n, float *tmp_keys,
                  int32_t *tmp_perm);

/* Number of keys[0:n) (ascending) that are <= q. Branchless. */
static inline size_t gk_count_le(const float *keys, size_t n, float q) {
    if (n == 0) return 0;
    const float *b = keys;
    size_t len = n;
    while (len > 1) {
        size_t half = len / 2;
        b = b[half] <= q ? b + half : b;
        len -= half;
    }
    return (size_t)(b - keys) + (*b <= q);
}

#endif
