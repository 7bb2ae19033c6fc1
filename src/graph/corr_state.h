/* The state of a gk_corr (src/graph/corr.c) and the per-ISA kernels of
 * its O(N^2) passes, which see it: the portable ones live in corr.c, the
 * AVX-512 ones in corr_avx512.c. gk_corr_create picks them once. */
#ifndef GK_CORR_STATE_H
#define GK_CORR_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "graphkern.h"
#include "pool.h"

enum {
    GK_CORR_KMAX = 64,  /* top-k up to this takes the fused pass; above, the scan */
    PICK_STRIDE = GK_CORR_KMAX + 1,  /* + a slot for branch-free writes past k */
    GK_CORR_CAP = 64,   /* candidates a thread keeps per row; more: row fallback  */
    GK_CORR_MIN_SPLIT_N = 128,  /* fewer assets: the passes stay on one thread */
};

/* Row i's candidates from the fused pass of worker `worker`, rows
 * [first, last) of the upper triangle (docs/correlation.md). */
typedef void gk_corr_fused_fn(gk_corr *c, int worker, size_t first, size_t last);

/* The top k of m candidates by a split guess (see select_ranked in
 * corr.c); GK_CORR_UNDECIDED when ranks must decide (ties, no guess). */
typedef size_t gk_corr_select_fn(const int32_t *j, const float *r, float *a, size_t m,
                                 size_t k, float split, int32_t *out_j, float *out_r,
                                 float *kth, float *next);
#define GK_CORR_UNDECIDED ((size_t)-1)

/* A row that picked a node, and the pair's rho: one 8-byte store each in
 * the symmetrization's scatter (two arrays made it two stores to two
 * random lines). */
typedef struct {
    int32_t row;
    float rho;
} gk_corr_rev;

/* The graph's rows from the picks, symmetrized or not (assemble in
 * corr.c): row i ends at row_end[i]. Returns the edge count. */
typedef size_t gk_corr_assemble_fn(gk_corr *c, int symmetric);

struct gk_corr {
    gk_corr_fused_fn *fused_rows;    /* chosen once for the CPU          */
    gk_corr_select_fn *select_split;
    gk_corr_assemble_fn *assemble;
    size_t n, window;
    int recompute_every;
    int threads;           /* 1, or the borrowed plan's threads             */
    gk_pool *pool;         /* the plan's pool, borrowed; NULL: caller only  */
    int32_t *split;        /* [threads + 1] row ranges of equal triangle area */
    double *rows;          /* [window, n] ring; a non-finite value is 0    */
    uint8_t *bad;          /* [window, n] 1 where the return was non-finite */
    int32_t *bad_count;    /* [n] flagged values of each asset in the window */
    size_t count;          /* rows in the window                            */
    size_t head;           /* ring slot the next push writes                */
    uint64_t ticks;
    int since_recompute;
    double *sum;           /* [n]                                           */
    double *cross;         /* [n, n], upper triangle (j >= i) used          */
    double *dropped;       /* [n] the row a push drops                      */
    const double *pending; /* the pushed row (in the ring) whose update of C
                              above the diagonal is still due, or NULL   */
    double *inv_sd;        /* [n] 1/sqrt(centred sum of squares), 0: invalid */
    double *w;             /* [n] inv_sd, NaN where invalid (fused pass)    */
    float *rho;            /* [n, n] full symmetric, threshold-only graphs  */
    int32_t *edges;        /* [2, n(n-1)] COO: sources, then targets        */
    float *attr;           /* [n(n-1) + 1] rho of each edge (+ a slot for
                              branch-free writes past the last)         */
    float *cut;            /* [n] a row's candidates have |rho| >= cut      */
    float *kth;            /* [n] |rho| of the k-th pick last build, or -1  */
    float *next;           /* [n] the best |rho| not picked (k+1-th), or -1 */
    int32_t *cand_n;       /* [threads, n] candidates each thread found     */
    int32_t *cand_j;       /* [threads, n, CAP + 1] ... their sources (the
                              last slot takes the writes past CAP)         */
    float *cand_r;         /* [threads, n, CAP + 1] ... and rho             */
    float *row_buf;        /* [threads, n] one full row (fallback, scan)    */
    float *heap_a;         /* [threads, n + 16] top-k heap: |rho|           */
    int32_t *heap_j;       /* [threads, n + 16] top-k heap: source          */
    float *heap_r;         /* [threads, n + 16] top-k heap: rho             */
    int32_t *pick_n;       /* [n] sources picked per target                 */
    int32_t *row_first;    /* [n] COO row of target i: [row_first, row_end) */
    int32_t *row_end;      /* [n]                                           */
    int32_t *pick_j;       /* [n, KMAX + 1] ascending                       */
    float *pick_r;         /* [n, KMAX + 1]                                 */
    int32_t *rev_first;    /* [n + 1] symmetrization: rows that picked i ... */
    gk_corr_rev *rev;      /* [n, KMAX] ... in ascending order, with rho    */
    int32_t *scan_j;       /* [threads, 2, n + 16] a row's own and offered */
    float *scan_r;         /* [threads, 2, n + 16] candidates (AVX-512 pass) */
    int32_t *picked;       /* [n] i + 1: picked by row i (portable rows' marks) */
    int32_t *one_target;   /* [n, KMAX] the one-sided picks j -> i (i did not */
    int32_t *one_source;   /* [n, KMAX] pick j), in row order: i, j, rho     */
    float *one_rho;        /* [n, KMAX] (AVX-512 assembly)                   */
};

/* C[i, j > i] += a_i a_j - b_i b_j for the pending push (a = its row,
 * b = the row it dropped): one row of the update a push defers to the
 * next fused pass (or flush). */
void gk_corr_slide_row(gk_corr *c, size_t i);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GK_CORR_HAVE_AVX512 1
gk_corr_fused_fn gk_corr_fused_rows_avx512;
gk_corr_select_fn gk_corr_select_split_avx512;
gk_corr_assemble_fn gk_corr_assemble_avx512;
#endif

#endif
