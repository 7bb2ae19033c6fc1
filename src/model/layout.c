/* The fused transform's column layout (layout.h, model.h): the rule is
 * codegen/layout.toml's, read here through generated/gk_layout.h, the same
 * one codegen/gen.py sizes its transform kernels by. */
#include "layout.h"

#include <limits.h>

#include "error.h"
#include "gk_layout.h"

static long long padded(long long cols) {
    return (cols + GK_LAYOUT_ALIGN - 1) / GK_LAYOUT_ALIGN * GK_LAYOUT_ALIGN;
}

size_t gk_t_stride(const gk_layer *layer) {
    return (size_t)padded(layer->cols);
}

gk_status gk_layer_assign_columns(gk_layer *layer, gk_error *err) {
    const gk_layer_info *info = &layer->info;
    const gk_layout_params p = {info->heads, info->out_channels, info->concat != 0,
                                info->residual != 0, info->share_weights != 0};
    long long cols, res_col;
    if (info->type == GK_LAYER_GAT) {
        const gk_layout_gat l = gk_layout_gat_of(&p);
        layer->col_h = (int)l.h;
        layer->col_src = (int)l.src;
        layer->col_dst = (int)l.dst;
        layer->col_xr = -1;
        cols = l.cols, res_col = l.res;
    } else {
        const gk_layout_gatv2 l = gk_layout_gatv2_of(&p);
        layer->col_h = (int)l.xl;
        layer->col_src = layer->col_dst = -1;
        layer->col_xr = (int)l.xr;
        cols = l.cols, res_col = l.res;
    }
    if (padded(cols) > INT_MAX || padded(cols) > INT_MAX / info->in_channels)
        return gk_fail(err, GK_EOVERFLOW, "layer '%s': fused transform [%d, %lld] too large",
                       layer->name, info->in_channels, cols);
    layer->col_res = info->residual ? (int)res_col : -1;
    layer->cols = (int)cols;
    return GK_OK;
}
