/* Counting allocations for `graphkern bench --model`: malloc and friends
 * are wrapped around glibc's own entry points, so a bench can say how many
 * allocations its timed loop made (the library promises none). Under a
 * sanitizer, which owns malloc, or in a static executable (libc.a's malloc
 * cannot be replaced), nothing is wrapped and the count is -1. */
#include <stddef.h>

#include "cli.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define GK_CLI_NO_COUNT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__GLIBC__) || \
    defined(GK_NO_MALLOC_INTERPOSE)
#define GK_CLI_NO_COUNT 1
#endif

#if defined(GK_CLI_NO_COUNT)
long cli_allocations(void) { return -1; }
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static volatile long count;

void *malloc(size_t n) {
    count++;
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    count++;
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    count++;
    return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n) {
    count++;
    return __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n) {
    count++;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}
long cli_allocations(void) { return count; }
#endif
