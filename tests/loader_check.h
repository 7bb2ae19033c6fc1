/* Minimal checking for the loader tests: count failures, print where, and
 * keep going so one run shows every broken case. */
#ifndef GK_LOADER_CHECK_H
#define GK_LOADER_CHECK_H

#include <stdio.h>

#include "graphkern.h"

static int check_failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

/* The status and, on mismatch, the message the library gave. */
#define CHECK_STATUS(expr, expected, err)                                    \
    do {                                                                     \
        gk_status got_ = (expr);                                             \
        if (got_ != (expected)) {                                            \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n",     \
                    __FILE__, __LINE__, #expr, gk_strerror(got_),            \
                    gk_strerror(expected), (err)->message);                  \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

static int check_report(const char *name) {
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
