/* The library's only allocator: 64-byte aligned, zeroed blocks, with a
 * failure-injection hook for tests (gk_test_fail_alloc_after). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_testing.h"
#include "model.h"

/* Test-only: when > 0, the n-th next allocation fails. Not thread-safe by
 * design; only the single-threaded fault-injection test sets it. */
static long fail_countdown = 0;

void gk_test_fail_alloc_after(long n) { fail_countdown = n; }

long gk_test_alloc_countdown(void) { return fail_countdown; }

void *gk_alloc(size_t bytes) {
    if (fail_countdown > 0 && --fail_countdown == 0) return NULL;
    if (bytes == 0) bytes = 1;
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded < bytes) return NULL;
    void *p = aligned_alloc(64, rounded);
    if (p) memset(p, 0, rounded);  /* also touches every page now */
    return p;
}

void *gk_calloc_array(size_t count, size_t size) {
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    return gk_alloc(count * size);
}

void gk_free(void *p) { free(p); }
