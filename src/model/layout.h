/* The fused transform's column layout (model.h): which columns of
 * t = x · w_fused hold what, and the row stride of t. The loader lays the
 * columns out (model.c) and packs the weights into them (model_weights.c);
 * plans and kernels read the stride (kernels.h includes this header). */
#ifndef GK_LAYOUT_H
#define GK_LAYOUT_H

#include <stddef.h>

#include "model.h"

/* Floats per row of t (and of w_fused): layer->cols rounded up to 16. */
size_t gk_t_stride(const gk_layer *layer);

/* Set layer's col_* fields and cols from its info (read from the metadata):
 * GAT [h | s_src | s_dst | res], GATv2 [xl | xr | res] with xr dropped when
 * share_weights. GK_EOVERFLOW when w_fused would not fit an int. */
gk_status gk_layer_assign_columns(gk_layer *layer, gk_error *err);

#endif
