/* Test hook: make the n-th next gk_alloc fail (0 disables). Tests only. */
#ifndef GK_ALLOC_TESTING_H
#define GK_ALLOC_TESTING_H

void gk_test_fail_alloc_after(long n);

#endif
