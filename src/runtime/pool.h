/* A persistent worker pool: threads created once (with the plan), a job is
 * run by every worker and the caller together, workers spin for the next
 * job for a bounded time, then sleep on a futex.
 *
 * The caller is worker 0; a pool of T threads starts T-1 workers. Jobs are
 * fork-join: gk_pool_run returns when every worker has finished. Inside a
 * job, gk_pool_barrier is a spinning barrier over all T workers. */
#ifndef GK_POOL_H
#define GK_POOL_H

#include "graphkern.h"

typedef struct gk_pool gk_pool;

/* fn(ctx, worker, workers) with worker in [0, workers). */
typedef void (*gk_pool_fn)(void *ctx, int worker, int workers);

/* threads >= 2. pin_first_cpu >= 0 pins worker k to CPU pin_first_cpu + k
 * for k >= 1; the caller (worker 0) is left alone: pinning the calling
 * thread is the caller's decision (e.g. to pin_first_cpu). spin_us: how
 * long an idle worker polls for the next job before it sleeps. */
gk_status gk_pool_create(int threads, int pin_first_cpu, int spin_us,
                         gk_pool **out, gk_error *err);

/* Join every worker and free the pool. */
void gk_pool_free(gk_pool *pool);

/* Run fn on every worker (the caller included) and wait for all of them.
 * No lock; a system call only to wake workers that went to sleep. */
void gk_pool_run(gk_pool *pool, gk_pool_fn fn, void *ctx);

/* Spin until every worker of the current job has arrived here. */
void gk_pool_barrier(gk_pool *pool);

#endif
