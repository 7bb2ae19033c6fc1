/* Test hook: make the n-th next gk_alloc fail (0 disables). Tests only. */
#ifndef GK_ALLOC_TESTING_H
#define GK_ALLOC_TESTING_H

void gk_test_fail_alloc_after(long n);
/* Allocations left before the injected failure (0: none pending, or the
 * failure already happened). Lets a test see that a call which succeeded
 * did not swallow a failed allocation. */
long gk_test_alloc_countdown(void);

#endif
