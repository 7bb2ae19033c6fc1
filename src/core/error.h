/* Filling a gk_error: one place that formats the per-call message. */
#ifndef GK_ERROR_H
#define GK_ERROR_H

#include "graphkern.h"

#if defined(__GNUC__)
#define GK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GK_PRINTF(a, b)
#endif

/* Record status and a formatted message in err (may be NULL); returns status
 * so that callers can write `return gk_fail(err, GK_ESHAPE, "...")`. */
gk_status gk_fail(gk_error *err, gk_status status, const char *fmt, ...)
    GK_PRINTF(3, 4);

/* Mark err as success. */
void gk_ok(gk_error *err);

#endif
