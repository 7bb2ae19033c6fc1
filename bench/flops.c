/* The FLOP count behind GFLOP/s: the work of the direct algorithm, counted
 * the same way whatever kernel runs (so a kernel that skips work, such as the
 * O(N log N) complete-graph path, shows as more GFLOP/s, not fewer FLOPs).
 * A multiply-add is 2 FLOPs; exp, compare and max count 1. Per layer, with
 * N nodes, E' edges after self loops, F inputs, H heads, C channels, D edge
 * features:
 *   transform        2·N·F·H·C        h = x·Wᵀ
 *   node scores      4·N·H·C          s_src = a_src·h, s_dst = a_dst·h
 *   edge term        2·E'·D·H         lin_edge folded with att_edge (D > 0)
 *   logits           2·E'·H (+E'·H with edge features)   add, leaky_relu
 *   softmax          5·E'·H           max, subtract, exp, sum, divide
 *   aggregation      2·E'·H·C         Σ α_ij·h_j
 *   heads            N·H·C            mean over heads (concat: 0)
 *   bias, activation N·W each         W = output width
 * GATv2Conv counts its two transforms and the per-channel attention
 * (E'·H·C adds, leaky_relus and multiply-adds) instead. */
#include "bench.h"

static double layer_flops(const gk_layer_info *L, double n, double e) {
    double h = L->heads, c = L->out_channels, f = L->in_channels, d = L->edge_dim;
    double w = L->out_width, flops = 0;
    if (L->type == GK_LAYER_GATV2) {
        flops += 2 * n * f * h * c * (L->share_weights ? 1 : 2);
        flops += d > 0 ? 2 * e * d * h * c : 0;
        flops += e * h * c * (d > 0 ? 5 : 4);   /* adds, lrelu, att FMA */
    } else {
        flops += 2 * n * f * h * c + 4 * n * h * c;
        flops += d > 0 ? 2 * e * d * h + e * h : 0;
        flops += 2 * e * h;
    }
    flops += 5 * e * h + 2 * e * h * c;
    flops += L->concat ? 0 : n * h * c;
    flops += L->residual ? 2 * n * f * w : 0;
    flops += (L->bias ? n * w : 0) + (L->activation != GK_ACT_NONE ? n * w : 0);
    return flops;
}

double bench_flops(const gk_model *m, const gk_graph *g) {
    double n = (double)gk_graph_num_nodes(g), total = 0;
    for (int l = 0; l < gk_model_num_layers(m); l++) {
        gk_layer_info info;
        if (gk_model_layer(m, l, &info) != GK_OK) continue;
        double e = (double)gk_graph_layer_edges(g, l, NULL, NULL, 0);
        total += layer_flops(&info, n, e);
    }
    return total;
}
