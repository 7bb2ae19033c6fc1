/* gk_first_nonfinite: one branch-free pass that vectorizes, then, only when
 * something was found, a second pass for its index. */
#include "finite.h"

#include <stdint.h>
#include <string.h>

#include "per_isa.h"

GK_PER_ISA static int any_nonfinite(const float *a, size_t count) {
    uint32_t any = 0;
    for (size_t k = 0; k < count; k++) {
        uint32_t bits;
        memcpy(&bits, &a[k], sizeof bits);
        any |= (bits & 0x7f800000u) == 0x7f800000u;
    }
    return any != 0;
}

size_t gk_first_nonfinite(const float *a, size_t count) {
    if (!any_nonfinite(a, count)) return count;
    for (size_t k = 0; k < count; k++) {
        uint32_t bits;
        memcpy(&bits, &a[k], sizeof bits);
        if ((bits & 0x7f800000u) == 0x7f800000u) return k;
    }
    return count;
}
