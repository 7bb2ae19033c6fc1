/* The fused transform's column layout (layout.h, model.h). */
#include "layout.h"

#include <limits.h>

#include "error.h"

size_t gk_t_stride(const gk_layer *layer) {
    /* 16 floats = one 64-byte line: every row of t starts aligned and a
     * vector kernel may read a whole line past cols (zero padding). */
    return ((size_t)layer->cols + 15) & ~(size_t)15;
}

/* Column layout (model.h): GAT [h | s_src | s_dst | res],
 * GATv2 [xl | xr | res] with xr dropped when share_weights. */
gk_status gk_layer_assign_columns(gk_layer *layer, gk_error *err) {
    const gk_layer_info *info = &layer->info;
    long long hc = (long long)info->heads * info->out_channels;
    long long res = info->residual ? info->out_width : 0;
    long long cols;
    layer->col_h = 0;
    if (info->type == GK_LAYER_GAT) {
        layer->col_src = (int)hc;
        layer->col_dst = (int)(hc + info->heads);
        layer->col_xr = -1;
        cols = hc + 2LL * info->heads;
    } else {
        layer->col_src = layer->col_dst = -1;
        layer->col_xr = info->share_weights ? 0 : (int)hc;
        cols = info->share_weights ? hc : 2 * hc;
    }
    long long stride = (cols + res + 15) / 16 * 16;
    if (stride > INT_MAX || stride > INT_MAX / info->in_channels)
        return gk_fail(err, GK_EOVERFLOW,
                       "layer '%s': fused transform [%d, %lld] too large",
                       layer->name, info->in_channels, cols + res);
    layer->col_res = res ? (int)cols : -1;
    layer->cols = (int)(cols + res);
    return GK_OK;
}
