/* Placeholder selector: the generic path for every layer until the
 * generated kernels land (issue 7). */
#include "select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *gk_isa_name(gk_isa isa) {
    switch (isa) {
    case GK_ISA_AUTO: return "auto";
    case GK_ISA_AVX512: return "avx512";
    case GK_ISA_AVX2: return "avx2";
    case GK_ISA_SCALAR: return "scalar";
    case GK_ISA_GENERIC: return "generic";
    }
    return "?";
}

gk_status gk_resolve_isa(gk_isa requested, gk_isa *resolved, gk_error *err) {
    if ((unsigned)requested > GK_ISA_GENERIC)
        return gk_fail(err, GK_EINVAL, "unknown ISA value %d", (int)requested);
    *resolved = requested == GK_ISA_AUTO ? GK_ISA_GENERIC : requested;
    return GK_OK;
}

void gk_select_kernels(const gk_model *model, int layer, gk_isa isa,
                       gk_layer_kernels *out, char *reason,
                       size_t reason_size) {
    (void)model;
    (void)layer;
    *out = gk_generic_kernels;
    snprintf(reason, reason_size, "generic: no specialized kernels built (isa %s)",
             gk_isa_name(isa));
}
