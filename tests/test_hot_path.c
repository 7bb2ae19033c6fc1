/* The hot path allocates nothing, locks nothing, faults no page and makes no
 * system call: 1000 gk_infer calls per fixture (and 1000 trading ticks:
 * gk_corr_push + gk_corr_build_graph + gk_infer) with malloc and the pthread
 * locks interposed and getrusage around them (best of three rounds for page
 * faults), then the same loop in a child under strict seccomp (which kills
 * the process on any system call but read/write/exit). */
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_case.h"
#include "model_case.h"

/* GCC says __SANITIZE_ADDRESS__, clang __has_feature(...). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GK_SANITIZER_OWNS_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GK_SANITIZER_OWNS_MALLOC 1
#endif
/* A static executable (the AArch64 build under qemu) cannot replace libc.a's
 * malloc either; the seccomp and page-fault checks still run. */
#if defined(GK_NO_MALLOC_INTERPOSE)
#define GK_SANITIZER_OWNS_MALLOC 1
#endif

#if defined(GK_SANITIZER_OWNS_MALLOC)
#define COUNT_MALLOC 0  /* the sanitizer owns malloc; page faults and seccomp still run */
#else
#define COUNT_MALLOC 1
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static volatile long allocations = 0;
void *malloc(size_t n) { allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocations++; return __libc_realloc(p, n); }
void *aligned_alloc(size_t a, size_t n) { allocations++; return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n) {
    allocations++;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}
#endif

/* Locks: every pthread lock entry point counts, then does its job (BLIS's
 * sgemm, linked into this executable, would call them; gk_infer must not). */
#if COUNT_MALLOC
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
static volatile long locks = 0;
#define GK_COUNTED(ret, name, params, args)                        \
    ret name params {                                              \
        static ret(*real) params;                                  \
        if (!real) *(void **)&real = dlsym(RTLD_NEXT, #name);      \
        locks++;                                                   \
        return real args;                                          \
    }
GK_COUNTED(int, pthread_mutex_lock, (pthread_mutex_t *m), (m))
GK_COUNTED(int, pthread_mutex_trylock, (pthread_mutex_t *m), (m))
GK_COUNTED(int, pthread_rwlock_rdlock, (pthread_rwlock_t *l), (l))
GK_COUNTED(int, pthread_rwlock_wrlock, (pthread_rwlock_t *l), (l))
GK_COUNTED(int, pthread_spin_lock, (pthread_spinlock_t *l), (l))
GK_COUNTED(int, sem_wait, (sem_t *s), (s))
#endif

enum { CALLS = 1000 };

static long minor_faults(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* A whole model (format 2) runs by name instead: set while its case runs. */
static const model_case *named_case;

/* The trading tick instead: push a row of returns, rebuild the correlation
 * graph, infer (gk_corr_push, gk_corr_build_graph, gk_infer). */
typedef struct tick_case {
    gk_corr *corr;
    gk_corr_rule rule;
    float *returns;     /* [rows, n] replayed in a loop */
    size_t n, rows, next;
} tick_case;
static tick_case *tick;

static gk_status tick_once(tick_case *t, gk_plan *plan, gk_graph *graph, const float *x,
                           float *y) {
    gk_status st = gk_corr_push(t->corr, t->returns + t->next * t->n, NULL);
    t->next = (t->next + 1) % t->rows;
    if (st == GK_OK) st = gk_corr_build_graph(t->corr, &t->rule, graph, NULL, NULL);
    return st == GK_OK ? gk_infer(plan, graph, x, y, NULL) : st;
}

static int run_calls(gk_plan *plan, gk_graph *graph, const float *x, float *y) {
    gk_tensor out = {.name = "y", .data = y, .capacity = named_case ? named_case->y_count : 0};
    for (int k = 0; k < CALLS; k++) {
        gk_status st = tick ? tick_once(tick, plan, graph, x, y)
                       : named_case
                           ? gk_infer_named(plan, named_case->inputs,
                                            (size_t)named_case->num_inputs, &out, 1, NULL)
                           : gk_infer(plan, graph, x, y, NULL);
        if (st != GK_OK) return 1;
    }
    return 0;
}

/* Child: strict seccomp, then the loop; exits 0 only if it survived. */
static int survives_strict_seccomp(gk_plan *plan, gk_graph *graph,
                                   const float *x, float *y) {
    pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) syscall(SYS_exit, 3);
        int rc = run_calls(plan, graph, x, y);
        syscall(SYS_exit, rc);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) {
        printf("  child killed by signal %d: a system call on the hot path\n",
               WTERMSIG(status));
        return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int measure(const char *name, gk_plan *plan, gk_graph *graph, const float *x,
                   float *y);

static int check_case(const char *dir, const char *name, gk_isa isa) {
    fixture_case fc;
    if (fixture_load(dir, name, &fc)) return 1;
    gk_error err;
    gk_graph *graph = NULL;
    gk_plan *plan = NULL;
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = isa;
    opt.keep_attention = 1;
    int failures = 0;
    if (gk_graph_from_coo(fc.model, fc.num_nodes, fc.num_edges, fc.edge_index,
                          GK_INDEX_I64, fc.edge_attr, &graph, &err) != GK_OK ||
        gk_plan_create(fc.model, fc.num_nodes, fc.num_edges, &opt, &plan, &err) != GK_OK) {
        printf("FAIL %s: %s\n", name, err.message);
        fixture_free(&fc);
        return err.status == GK_EISA ? 0 : 1;
    }
    float *y = calloc(fc.num_nodes * fc.out_width, sizeof *y);
    failures += measure(name, plan, graph, fc.x, y);
    free(y);
    gk_plan_free(plan);
    gk_graph_free(graph);
    fixture_free(&fc);
    return failures;
}

/* 1000 calls counted, then 1000 under strict seccomp; prints one line. */
static int measure(const char *name, gk_plan *plan, gk_graph *graph, const float *x,
                   float *y) {
    int failures = run_calls(plan, graph, x, y);  /* first calls: lazy libc paths */
#if COUNT_MALLOC
    long a0 = allocations, l0 = locks;
#endif
    /* The kernel may fault a page for reasons of its own (the copy-on-write
     * left by the previous case's fork, page migration): a fault counts only
     * if it comes back in every one of three rounds. */
    long faults = 0;
    for (int round = 0; round < 3; round++) {
        long f0 = minor_faults();
        failures += run_calls(plan, graph, x, y);
        faults = minor_faults() - f0;
        if (faults == 0) break;
    }
#if COUNT_MALLOC
    long allocs = allocations - a0, taken = locks - l0;
#else
    long allocs = 0, taken = 0;
#endif
    int quiet = survives_strict_seccomp(plan, graph, x, y);
    const char *kernel = gk_plan_layer_kernel(plan, 0);
    printf("%s %s [%s]: %d calls, %ld allocations, %ld locks, %ld minor page faults, %s\n",
           (allocs || taken || faults || !quiet) ? "FAIL" : "ok  ", name,
           kernel ? kernel : "format 2", CALLS, allocs, taken, faults,
           quiet ? "no system call (strict seccomp)" : "SYSTEM CALL");
    return failures + (allocs != 0 || taken != 0 || faults != 0 || !quiet);
}

/* A whole model: gk_infer_named over its fixture inputs. */
static int check_model(const char *dir, const char *name, gk_isa isa) {
    model_case mc;
    if (model_case_load(dir, name, &mc)) return 1;
    gk_plan_options opt = gk_plan_default_options();
    opt.isa = isa;
    gk_plan *plan = NULL;
    gk_error err;
    if (gk_plan_create(mc.model, mc.nodes, mc.max_edges, &opt, &plan, &err) != GK_OK) {
        printf("FAIL %s: %s\n", name, err.message);
        model_case_free(&mc);
        return err.status == GK_EISA ? 0 : 1;
    }
    float *y = calloc(mc.y_count, sizeof *y);
    named_case = &mc;
    int failures = measure(name, plan, NULL, NULL, y);
    named_case = NULL;
    free(y);
    gk_plan_free(plan);
    model_case_free(&mc);
    return failures;
}

/* The tick on the reference top-16 model (edge_dim 1): N = 100, window 64,
 * a BLAS recompute every 50 pushes (so the loop includes some), top-16
 * symmetric, one thread (with more, waking a sleeping worker is a system
 * call by design, and the seccomp child has no workers: test_threads and
 * test_corr cover the threaded tick). */
static int check_tick(const char *dir) {
    enum { TN = 100, TW = 64, ROWS = 97 };
    char path[1024];
    snprintf(path, sizeof path, "%s/ref_topk16_n1000_edge1.model.safetensors", dir);
    gk_model *model = NULL;
    gk_graph *graph = NULL;
    gk_plan *plan = NULL;
    gk_error err;
    tick_case t = {.rule = {0.0f, 16, 1}, .n = TN, .rows = ROWS};
    gk_plan_options po = gk_plan_default_options();
    po.threads = 1;
    gk_corr_options co = gk_corr_default_options();
    co.recompute_every = 50;
    float *x = calloc(TN * 32, sizeof *x), *y = calloc(TN * 64, sizeof *y);
    t.returns = malloc(ROWS * TN * sizeof *t.returns);
    uint64_t s = 88172645463325252ull;
    for (size_t k = 0; k < ROWS * TN; k++) {  /* xorshift: 4 sectors + noise */
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        float noise = (float)(s >> 40) / (float)(1 << 24) - 0.5f;
        t.returns[k] = noise + (float)((k / TN) % 7) * 0.1f * (float)((k % TN) % 4);
    }
    for (size_t k = 0; k < TN * 32; k++) x[k] = (float)(k % 13) * 0.1f - 0.6f;
    int failures = 0;
    if (gk_model_load_file(path, &model, &err) != GK_OK ||
        gk_graph_create(model, TN, TN * (TN - 1), &graph, &err) != GK_OK ||
        gk_plan_create(model, TN, TN * (TN - 1), &po, &plan, &err) != GK_OK ||
        (co.threads_of = plan, gk_corr_create(TN, TW, &co, &t.corr, &err)) != GK_OK) {
        printf("FAIL tick setup: %s\n", err.message);
        failures = 1;
    } else {
        for (size_t k = 0; k < TW; k++) gk_corr_push(t.corr, t.returns + (k % ROWS) * TN, NULL);
        char name[64];
        snprintf(name, sizeof name, "tick_n100 (push + build_graph + infer)");
        tick = &t;
        failures += measure(name, plan, graph, x, y);
        tick = NULL;
    }
    gk_corr_free(t.corr);
    gk_plan_free(plan);
    gk_graph_free(graph);
    gk_model_free(model);
    free(t.returns);
    free(x);
    free(y);
    return failures;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    if (getenv("GK_EMULATED")) {  /* CTest's SKIP_RETURN_CODE */
        printf("skipped: under an emulator (%s) the emulator's own system calls and "
               "page faults are counted; the native build proves the hot path\n",
               getenv("GK_EMULATED"));
        return 77;
    }
    static const char *const cases[] = {"ref_dense_n100", "ref_topk10_n100",
                                        "ref_topk16_n1000_edge1", "gatv2_quirky_n16_edge1",
                                        "residual_n30"};
    static const gk_isa isas[] = {GK_ISA_AUTO, GK_ISA_GENERIC};
    int failures = 0;
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++)
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
            failures += check_case(dir, cases[c], isas[i]);
    for (size_t i = 0; i < sizeof isas / sizeof *isas; i++)
        for (int c = 0; model_case_names[c]; c++)
            failures += check_model(dir, model_case_names[c], isas[i]);
    failures += check_tick(dir);
    printf(failures ? "FAILED\n" : "all hot-path checks passed\n");
    return failures ? 1 : 0;
}
