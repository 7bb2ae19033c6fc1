/* The NaN/Inf scan of input arrays (x, edge features, named inputs), built
 * once per x86 level: the baseline build checks 4 floats per step, the
 * AVX-512 one 16. */
#ifndef GK_FINITE_H
#define GK_FINITE_H

#include <stddef.h>

/* Index of the first NaN or Inf in a[0, count) (exponent bits all set), or
 * count if there is none. */
size_t gk_first_nonfinite(const float *a, size_t count);

#endif
