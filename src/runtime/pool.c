/* The worker pool behind gk_plan_options.threads.
 *
 * A job is published by bumping `generation` (seq_cst) after writing fn and
 * ctx; workers poll it for spin_us, then sleep in futex_wait on it. A worker
 * counts itself in `sleepers` before it sleeps and re-checks the generation,
 * and the caller reads `sleepers` after the bump, so the caller makes the
 * futex_wake system call only when someone may be asleep: with workers
 * still spinning, starting a job is a store and a load. Completion is a
 * counter the caller spins on (jobs are microseconds). */
#define _GNU_SOURCE
#include "pool.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "model.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

typedef struct worker {
    gk_pool *pool;
    int index;
    pthread_t thread;
    int started;
} worker;

struct gk_pool {
    _Alignas(64) atomic_uint generation;   /* futex word: +1 per job          */
    _Alignas(64) atomic_int sleepers;
    _Alignas(64) atomic_int done;          /* workers (not the caller) done    */
    _Alignas(64) atomic_uint arrived;      /* barrier                          */
    _Alignas(64) atomic_uint phase;
    _Alignas(64) gk_pool_fn fn;            /* written before the bump          */
    void *ctx;
    int quit;                              /* read after a bump, like fn       */
    int threads;
    int pin_first_cpu;
    long spin_ns;
    worker *workers;                       /* [threads], [0] is the caller     */
};

/* Inside a job the others are awake, so waiting is polling; but a machine
 * with more runnable threads than cores may have descheduled the one we
 * wait for, so after a while each poll also yields the core. */
static void backoff(unsigned *polls) {
    if (++*polls < 4096)
        cpu_relax();
    else
        sched_yield();
}

static void futex_wait(atomic_uint *word, unsigned expected) {
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(atomic_uint *word) {
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Wait for the generation to move past `seen`: poll for spin_ns, then sleep. */
static unsigned wait_for_job(gk_pool *p, unsigned seen) {
    unsigned g;
    long deadline = now_ns() + p->spin_ns;
    for (unsigned k = 1; (g = atomic_load_explicit(&p->generation,
                                                   memory_order_acquire)) == seen; k++) {
        cpu_relax();
        if ((k & 255) == 0 && now_ns() > deadline) break;
    }
    while ((g = atomic_load(&p->generation)) == seen) {
        atomic_fetch_add(&p->sleepers, 1);
        if (atomic_load(&p->generation) == seen) futex_wait(&p->generation, seen);
        atomic_fetch_sub(&p->sleepers, 1);
    }
    return g;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    gk_pool *p = w->pool;
    if (p->pin_first_cpu >= 0) {
        /* CPUs wrap around: with the caller pinned to the last CPU, worker 1
         * goes to CPU 0, not to a CPU that does not exist (the pin would
         * fail and leave the worker on the caller's CPU, inherited). */
        long cpus = sysconf(_SC_NPROCESSORS_CONF);
        if (cpus < 1 || cpus > CPU_SETSIZE) cpus = cpus < 1 ? 1 : CPU_SETSIZE;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)(((long)p->pin_first_cpu + w->index) % cpus), &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);  /* best effort */
    }
    unsigned seen = 0;
    for (;;) {
        seen = wait_for_job(p, seen);
        if (p->quit) break;
        p->fn(p->ctx, w->index, p->threads);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
    return NULL;
}

gk_status gk_pool_create(int threads, int pin_first_cpu, int spin_us, gk_pool **out,
                         gk_error *err) {
    *out = NULL;
    if (threads < 2 || threads > GK_MAX_THREADS)
        return gk_fail(err, GK_EINVAL, "pool: threads = %d, need 2..%d", threads,
                       GK_MAX_THREADS);
    gk_pool *p = gk_alloc(sizeof *p);
    if (!p) return gk_fail(err, GK_ENOMEM, "pool: out of memory");
    atomic_init(&p->generation, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->arrived, 0);
    atomic_init(&p->phase, 0);
    p->threads = threads;
    p->pin_first_cpu = pin_first_cpu;
    p->spin_ns = spin_us > 0 ? (long)spin_us * 1000L : 0;
    p->workers = gk_calloc_array((size_t)threads, sizeof *p->workers);
    if (!p->workers) {
        gk_free(p);
        return gk_fail(err, GK_ENOMEM, "pool: out of memory");
    }
    for (int k = 1; k < threads; k++) {
        worker *w = &p->workers[k];
        w->pool = p;
        w->index = k;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            gk_pool_free(p);
            return gk_fail(err, GK_ETHREAD, "pool: cannot start worker %d of %d", k,
                           threads);
        }
        w->started = 1;
    }
    *out = p;
    return GK_OK;
}

void gk_pool_free(gk_pool *p) {
    if (!p) return;
    p->quit = 1;
    atomic_fetch_add(&p->generation, 1);
    futex_wake_all(&p->generation);
    for (int k = 1; k < p->threads; k++)
        if (p->workers[k].started) pthread_join(p->workers[k].thread, NULL);
    gk_free(p->workers);
    gk_free(p);
}

void gk_pool_run(gk_pool *p, gk_pool_fn fn, void *ctx) {
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) futex_wake_all(&p->generation);
    fn(ctx, 0, p->threads);
    unsigned polls = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) != p->threads - 1)
        backoff(&polls);
}

void gk_pool_barrier(gk_pool *p) {
    unsigned phase = atomic_load_explicit(&p->phase, memory_order_acquire);
    if (atomic_fetch_add_explicit(&p->arrived, 1, memory_order_acq_rel) ==
        (unsigned)p->threads - 1) {
        atomic_store_explicit(&p->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->phase, 1, memory_order_release);
        return;
    }
    unsigned polls = 0;
    while (atomic_load_explicit(&p->phase, memory_order_acquire) == phase) backoff(&polls);
}
