/* Rolling-window Pearson correlations and the graphs built from them.
 *
 * State: the window as a ring of T rows of N doubles (a non-finite return is
 * stored as 0 and flagged), the column sums S[N] and the upper triangle of
 * the cross sums C[N, N] = sum over the window of r r^T, all float64. A push
 * adds the new row's outer product and subtracts the dropped row's (O(N^2)),
 * every K pushes C is recomputed from the window (O(N^2 T)) so that
 * rounding drift cannot build up. A top-k graph is built in one pass over
 * the upper triangle that computes each rho once and offers it to both of
 * its rows (docs/correlation.md); a threshold-only graph computes the full
 * rho matrix and scans it. The O(N^2) passes may run on a plan's threads.
 * All memory exists from gk_corr_create on. */
#include <math.h>
#include <string.h>

#include "corr_state.h"
#include "error.h"
#include "graph.h"
#include "kernels.h"
#include "model.h"
#include "per_isa.h"
#include "plan.h"
#include "select.h"

/* Rows [split[t], split[t + 1]) of the upper triangle for worker t, with
 * about the same number of elements each (row i has n - i). The split only
 * spreads work: no result depends on it. */
static void choose_kernels(gk_corr *c, const gk_corr_options *opt);
static size_t assemble(gk_corr *c, int symmetric);

static void split_rows(size_t n, int threads, int32_t *split) {
    double total = (double)n * (double)(n + 1) / 2.0;
    size_t i = 0;
    double done = 0.0;
    split[0] = 0;
    for (int t = 1; t < threads; t++) {
        double goal = total * t / threads;
        while (i < n && done + (double)(n - i) <= goal) done += (double)(n - i++);
        split[t] = (int32_t)i;
    }
    split[threads] = (int32_t)n;
}

gk_corr_options gk_corr_default_options(void) {
    gk_corr_options o = {1024, NULL};
    return o;
}

gk_status gk_corr_create(size_t n, size_t window, const gk_corr_options *options,
                         gk_corr **out, gk_error *err) {
    if (!out) return gk_fail(err, GK_EINVAL, "gk_corr_create: NULL out");
    *out = NULL;
    gk_corr_options opt = options ? *options : gk_corr_default_options();
    if (n < 2 || window < 2)
        return gk_fail(err, GK_EINVAL, "gk_corr_create: need >= 2 assets and a window "
                       ">= 2 (got %zu, %zu)", n, window);
    if (opt.recompute_every < 0)
        return gk_fail(err, GK_EINVAL, "gk_corr_create: recompute_every = %d",
                       opt.recompute_every);
    /* Edge indices are int32 and the graph is built with int32 COO. */
    if (n > 46340)
        return gk_fail(err, GK_EOVERFLOW, "gk_corr_create: %zu assets, at most 46340 "
                       "(N*(N-1) edges must fit int32)", n);
    if (window > SIZE_MAX / sizeof(double) / n)
        return gk_fail(err, GK_EOVERFLOW, "gk_corr_create: %zu assets x %zu rows "
                       "overflow size_t", n, window);
    size_t max_edges = n * (n - 1);
    gk_corr *c = gk_alloc(sizeof *c);
    if (!c) return gk_fail(err, GK_ENOMEM, "gk_corr_create: out of memory");
    c->n = n;
    c->window = window;
    c->recompute_every = opt.recompute_every;
    /* Below GK_CORR_MIN_SPLIT_N assets a pass is a few µs: waking the
     * plan's workers and joining them costs more than the split saves
     * (N = 100 ticks: 64 µs on one thread, 76 µs split over two). */
    c->threads = opt.threads_of && opt.threads_of->pool && n >= GK_CORR_MIN_SPLIT_N
                     ? opt.threads_of->threads : 1;
    c->pool = c->threads > 1 ? opt.threads_of->pool : NULL;
    size_t t = (size_t)c->threads;
    c->split = gk_calloc_array(t + 1, sizeof(int32_t));
    c->rows = gk_calloc_array(window * n, sizeof(double));
    c->bad = gk_calloc_array(window * n, 1);
    c->bad_count = gk_calloc_array(n, sizeof(int32_t));
    c->sum = gk_calloc_array(n, sizeof(double));
    c->cross = gk_calloc_array(n * n, sizeof(double));
    c->dropped = gk_calloc_array(n, sizeof(double));
    c->inv_sd = gk_calloc_array(n, sizeof(double));
    c->w = gk_calloc_array(n, sizeof(double));
    c->rho = gk_calloc_array(n * n, sizeof(float));
    /* COO (k > KMAX, threshold), or the top-k rows with a free slot after
     * each (n * n), + a slot for the portable assembly's writes past */
    c->edges = gk_calloc_array(2 * max_edges > n * n + 1 ? 2 * max_edges : n * n + 1,
                               sizeof(int32_t));
    c->attr = gk_calloc_array(n * n + 1, sizeof(float));
    c->cut = gk_calloc_array(n, sizeof(float));
    c->kth = gk_calloc_array(n, sizeof(float));
    c->next = gk_calloc_array(n, sizeof(float));
    c->cand_n = gk_calloc_array(t * n, sizeof(int32_t));
    c->cand_j = gk_calloc_array(t * n * (GK_CORR_CAP + 1), sizeof(int32_t));
    c->cand_r = gk_calloc_array(t * n * (GK_CORR_CAP + 1), sizeof(float));
    c->row_buf = gk_calloc_array(t * n, sizeof(float));
    c->heap_a = gk_calloc_array(t * (n + 16), sizeof(float));  /* + select_ranked's */
    c->heap_j = gk_calloc_array(t * (n + 16), sizeof(int32_t)); /*   padding        */
    c->heap_r = gk_calloc_array(t * (n + 16), sizeof(float));
    c->pick_n = gk_calloc_array(n, sizeof(int32_t));
    c->row_first = gk_calloc_array(n, sizeof(int32_t));
    c->row_end = gk_calloc_array(n, sizeof(int32_t));
    c->pick_j = gk_calloc_array(n * PICK_STRIDE, sizeof(int32_t));
    c->pick_r = gk_calloc_array(n * PICK_STRIDE, sizeof(float));
    c->rev_first = gk_calloc_array(n + 1, sizeof(int32_t));
    c->rev = gk_calloc_array(n * GK_CORR_KMAX, sizeof(gk_corr_rev));
    c->picked = gk_calloc_array(n, sizeof(int32_t));
    c->one_target = gk_calloc_array(n * GK_CORR_KMAX, sizeof(int32_t));
    c->one_source = gk_calloc_array(n * GK_CORR_KMAX, sizeof(int32_t));
    c->one_rho = gk_calloc_array(n * GK_CORR_KMAX, sizeof(float));
    c->scan_j = gk_calloc_array(t * 2 * (n + 16), sizeof(int32_t));
    c->scan_r = gk_calloc_array(t * 2 * (n + 16), sizeof(float));
    if (!c->split || !c->rows || !c->bad || !c->bad_count || !c->sum || !c->cross ||
        !c->dropped || !c->inv_sd || !c->w || !c->rho || !c->edges || !c->attr ||
        !c->cut || !c->kth || !c->next || !c->cand_n || !c->cand_j || !c->cand_r || !c->row_buf ||
        !c->heap_a || !c->heap_j || !c->heap_r || !c->pick_n || !c->row_first || !c->row_end || !c->pick_j ||
        !c->pick_r || !c->rev_first || !c->rev || !c->picked ||
        !c->one_target || !c->one_source || !c->one_rho ||
        !c->scan_j || !c->scan_r) {
        gk_corr_free(c);
        return gk_fail(err, GK_ENOMEM, "gk_corr_create: cannot allocate %zu x %zu",
                       n, window);
    }
    split_rows(n, c->threads, c->split);
    choose_kernels(c, &opt);
    for (size_t i = 0; i < n; i++) c->kth[i] = c->next[i] = -1.0f;  /* no picks yet */
    gk_corr_recompute(c);
    *out = c;
    gk_ok(err);
    return GK_OK;
}

void gk_corr_free(gk_corr *c) {
    if (!c) return;
    gk_free(c->split);
    gk_free(c->rows);
    gk_free(c->bad);
    gk_free(c->bad_count);
    gk_free(c->sum);
    gk_free(c->cross);
    gk_free(c->dropped);
    gk_free(c->inv_sd);
    gk_free(c->w);
    gk_free(c->rho);
    gk_free(c->edges);
    gk_free(c->attr);
    gk_free(c->cut);
    gk_free(c->kth);
    gk_free(c->next);
    gk_free(c->cand_n);
    gk_free(c->cand_j);
    gk_free(c->cand_r);
    gk_free(c->row_buf);
    gk_free(c->heap_a);
    gk_free(c->heap_j);
    gk_free(c->heap_r);
    gk_free(c->pick_n);
    gk_free(c->row_first);
    gk_free(c->row_end);
    gk_free(c->pick_j);
    gk_free(c->pick_r);
    gk_free(c->rev_first);
    gk_free(c->rev);
    gk_free(c->picked);
    gk_free(c->one_target);
    gk_free(c->one_source);
    gk_free(c->one_rho);
    gk_free(c->scan_j);
    gk_free(c->scan_r);
    gk_free(c);
}

/* ---- the window ------------------------------------------------------------ */

/* The O(N²) passes run per tick, built once per ISA (per_isa.h). */

/* A push updates S and the diagonal of C at once (O(N): validity and the
 * scales read them) and leaves the rest of C += a a^T - b b^T pending: the
 * next top-k build does it row by row inside its fused pass, which reads
 * each row of C anyway, so the O(N^2) update costs no pass of its own.
 * Anything else that reads C above the diagonal flushes it first. Rows
 * never yet written are zeros, so filling the window and sliding it are
 * the same update. */
GK_PER_ISA void gk_corr_slide_row(gk_corr *c, size_t i) {
    size_t n = c->n;
    const double *a = c->pending, *b = c->dropped;
    double ai = a[i], bi = b[i];
    double *row = c->cross + i * n;
    for (size_t j = i + 1; j < n; j++) row[j] += ai * a[j] - bi * b[j];
}

static void slide_diagonal(gk_corr *c, const double *a, const double *b) {
    size_t n = c->n;
    for (size_t i = 0; i < n; i++) {
        c->cross[i * n + i] += a[i] * a[i] - b[i] * b[i];
        c->sum[i] += a[i] - b[i];
    }
}

static void slide_worker(void *ctx, int worker, int workers) {
    (void)workers;
    gk_corr *c = ctx;
    for (size_t i = (size_t)c->split[worker]; i < (size_t)c->split[worker + 1]; i++)
        gk_corr_slide_row(c, i);
}

/* The pending update, now (on the plan's threads). */
static void flush(gk_corr *c) {
    if (!c->pending) return;
    if (c->pool) gk_pool_run(c->pool, slide_worker, c);
    else slide_worker(c, 0, 1);
    c->pending = NULL;
}

/* C[i, j] = sum over the ring of r_i r_j for the rows i of 8-row blocks
 * worker, worker + workers, ... (and j from the block's first column on,
 * a few lower-triangle values included, unused), and S for the same rows.
 * A register tile of 8 rows x 8 columns runs down the whole window: one
 * load of the window per 8 multiply-adds. Each value is summed over the
 * ring slots in order, whatever the blocking or the thread: the same bits.
 * Our own loop, not BLAS dsyrk: BLIS takes its pack-buffer pool's lock,
 * and gk_corr_push must take none (tests/test_hot_path.c). */
/* Eight doubles (GCC / clang vector extension): one AVX-512 register in
 * the x86-64-v4 build, lowered to narrower ones elsewhere. */
typedef double v8d __attribute__((vector_size(64)));

/* The recompute may fuse its multiply-adds (ISO C mode compiles with
 * -ffp-contract=off): its sums differ from the unfused ones in the last
 * bits, like any BLAS's, and are the same on every thread count. */
#if defined(__GNUC__) && !defined(__clang__)
#define GK_FUSED_MULADD __attribute__((optimize("fp-contract=fast")))
#else
#define GK_FUSED_MULADD
#endif

GK_PER_ISA GK_FUSED_MULADD static void recompute_blocks(gk_corr *c, int worker, int workers) {
    enum { R = 8, L = 16, PANEL = 64 };  /* a panel of the window: T x 64 in L2 */
    const size_t n = c->n, t_all = c->window;
    const double *restrict rows = c->rows;
    for (size_t i0 = (size_t)worker * R; i0 < n; i0 += (size_t)workers * R)
        for (size_t q = 0; q < R && i0 + q < n; q++) {
            double s = 0.0;
            for (size_t t = 0; t < t_all; t++) s += rows[t * n + i0 + q];
            c->sum[i0 + q] = s;
        }
    for (size_t p0 = 0; p0 < n; p0 += PANEL) {
        size_t p1 = p0 + PANEL < n ? p0 + PANEL : n;
        for (size_t i0 = (size_t)worker * R; i0 < p1; i0 += (size_t)workers * R) {
            size_t rb = n - i0 < R ? n - i0 : R;
            size_t j0 = i0 > p0 ? i0 : p0;
            for (; rb == R && j0 + L <= p1; j0 += L) {
                v8d a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0},
                    a7 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0}, b4 = {0}, b5 = {0},
                    b6 = {0}, b7 = {0};
                for (size_t t = 0; t < t_all; t++) {
                    const double *rt = rows + t * n, *ri = rt + i0;
                    v8d x, y;
                    memcpy(&x, rt + j0, sizeof x);
                    memcpy(&y, rt + j0 + 8, sizeof y);
                    a0 += ri[0] * x, b0 += ri[0] * y;
                    a1 += ri[1] * x, b1 += ri[1] * y;
                    a2 += ri[2] * x, b2 += ri[2] * y;
                    a3 += ri[3] * x, b3 += ri[3] * y;
                    a4 += ri[4] * x, b4 += ri[4] * y;
                    a5 += ri[5] * x, b5 += ri[5] * y;
                    a6 += ri[6] * x, b6 += ri[6] * y;
                    a7 += ri[7] * x, b7 += ri[7] * y;
                }
                const v8d out[R][2] = {{a0, b0}, {a1, b1}, {a2, b2}, {a3, b3},
                                       {a4, b4}, {a5, b5}, {a6, b6}, {a7, b7}};
                for (size_t q = 0; q < R; q++)
                    memcpy(c->cross + (i0 + q) * n + j0, out[q], sizeof out[q]);
            }
            for (; rb == R && j0 + 8 <= p1; j0 += 8) {  /* 8 columns left in the panel */
                v8d acc[R];
                memset(acc, 0, sizeof acc);
                for (size_t t = 0; t < t_all; t++) {
                    const double *rt = rows + t * n;
                    v8d x;
                    memcpy(&x, rt + j0, sizeof x);
                    for (size_t q = 0; q < R; q++) acc[q] += rt[i0 + q] * x;
                }
                for (size_t q = 0; q < R; q++)
                    memcpy(c->cross + (i0 + q) * n + j0, &acc[q], sizeof acc[q]);
            }
            for (size_t q = 0; q < rb; q++)  /* the last (< 8) columns, a short block */
                for (size_t j = j0; j < p1; j++) {
                    double acc = 0.0;
                    for (size_t t = 0; t < t_all; t++) acc += rows[t * n + i0 + q] * rows[t * n + j];
                    c->cross[(i0 + q) * n + j] = acc;
                }
        }
    }
}

static void recompute_worker(void *ctx, int worker, int workers) {
    recompute_blocks(ctx, worker, workers);
}

void gk_corr_recompute(gk_corr *c) {
    if (!c) return;
    if (c->pool) gk_pool_run(c->pool, recompute_worker, c);
    else recompute_blocks(c, 0, 1);
    c->since_recompute = 0;
    c->pending = NULL;  /* the window holds every push */
}

gk_status gk_corr_push(gk_corr *c, const float *returns, gk_error *err) {
    if (!c || !returns) return gk_fail(err, GK_EINVAL, "gk_corr_push: NULL argument");
    size_t n = c->n;
    int due = c->recompute_every > 0 && c->since_recompute + 1 >= c->recompute_every;
    if (!due) flush(c);  /* the previous push's: it reads the row dropped next */
    double *slot = c->rows + c->head * n;
    uint8_t *bad = c->bad + c->head * n;
    /* The slot holds the dropped row (zeros while the window fills). */
    double *old = c->dropped;
    memcpy(old, slot, n * sizeof *old);
    for (size_t i = 0; i < n; i++) {
        float r = returns[i];
        int finite = isfinite(r);
        c->bad_count[i] += (int32_t)!finite - (int32_t)bad[i];
        bad[i] = (uint8_t)!finite;
        slot[i] = finite ? (double)r : 0.0;
    }
    c->head = (c->head + 1) % c->window;
    if (c->count < c->window) c->count++;
    c->ticks++;
    if (c->recompute_every > 0) c->since_recompute++;
    if (due) {
        gk_corr_recompute(c);
    } else {
        slide_diagonal(c, slot, old);
        c->pending = slot;
    }
    gk_ok(err);
    return GK_OK;
}

size_t gk_corr_num_assets(const gk_corr *c) { return c ? c->n : 0; }
size_t gk_corr_count(const gk_corr *c) { return c ? c->count : 0; }
uint64_t gk_corr_ticks(const gk_corr *c) { return c ? c->ticks : 0; }

/* ---- correlations ---------------------------------------------------------- */

/* Centred sum of squares of asset i, or 0 when the series is invalid: fewer
 * than 2 rows, a flagged value in the window, or a variance that is only
 * rounding (below 1e-12 of the raw sum of squares: a constant series). */
static double centred_ss(const gk_corr *c, size_t i) {
    if (c->count < 2 || c->bad_count[i] > 0) return 0.0;
    double raw = c->cross[i * c->n + i];
    double ss = raw - c->sum[i] * c->sum[i] / (double)c->count;
    return ss > 1e-12 * raw && ss > 0.0 ? ss : 0.0;
}

int gk_corr_valid(const gk_corr *c, size_t i) {
    return c && i < c->n && centred_ss(c, i) > 0.0;
}

/* rho[N, N] (full, symmetric) from the sums; inv_sd is computed first.
 * `none` is written on the diagonal and wherever an asset is invalid: 0
 * for gk_corr_matrix (which then sets valid diagonals to 1), NaN for graph
 * building, where it fails every |rho| >= threshold test by itself. The
 * upper triangle is computed row by row, the lower one copied in tiles. */
GK_PER_ISA static void compute_rho(gk_corr *c, float *rho, float none) {
    enum { TILE = 32 };
    size_t n = c->n;
    double inv_n = c->count ? 1.0 / (double)c->count : 0.0;
    for (size_t i = 0; i < n; i++) {
        double ss = centred_ss(c, i);
        c->inv_sd[i] = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
    }
    const double *restrict sum = c->sum, *restrict inv_sd = c->inv_sd;
    for (size_t i = 0; i < n; i++) {
        double si = sum[i] * inv_n, di = inv_sd[i];
        const double *restrict row = c->cross + i * n;
        float *restrict out = rho + i * n;
        for (size_t j = i + 1; j < n; j++) {
            /* clamped after the conversion: the same result, and in this
             * form GCC vectorizes the selects (blends) */
            float r = (float)((row[j] - si * sum[j]) * di * inv_sd[j]);
            r = r > 1.0f ? 1.0f : r;
            r = r < -1.0f ? -1.0f : r;
            out[j] = r;
        }
    }
    for (size_t ib = 0; ib < n; ib += TILE)
        for (size_t jb = 0; jb <= ib; jb += TILE)
            for (size_t i = ib; i < ib + TILE && i < n; i++)
                for (size_t j = jb; j < jb + TILE && j < i; j++) rho[i * n + j] = rho[j * n + i];
    for (size_t i = 0; i < n; i++) {
        rho[i * n + i] = none;
        if (c->inv_sd[i] > 0.0) continue;
        for (size_t j = 0; j < n; j++) rho[i * n + j] = rho[j * n + i] = none;
    }
}

void gk_corr_matrix(gk_corr *c, float *rho) {
    if (!c || !rho) return;
    flush(c);
    compute_rho(c, rho, 0.0f);
    for (size_t i = 0; i < c->n; i++)
        if (c->inv_sd[i] > 0.0) rho[i * c->n + i] = 1.0f;
}

/* ---- graphs ------------------------------------------------------------------ */

/* A min-heap of the k best (|rho|, j) seen so far, carrying rho: "better"
 * is a larger |rho|, then a smaller j, a strict total order, so the k kept
 * do not depend on the order of the offers. The root is the one to evict. */
typedef struct topk {
    float *a;
    int32_t *j;
    float *r;
    size_t m, k;
} topk;

static int worse(float a, int32_t i, float b, int32_t j) {
    return a < b || (a == b && i > j);
}

static void sift_down(topk *h, size_t at) {
    for (;;) {
        size_t l = 2 * at + 1, r = l + 1, m = at;
        if (l < h->k && worse(h->a[l], h->j[l], h->a[m], h->j[m])) m = l;
        if (r < h->k && worse(h->a[r], h->j[r], h->a[m], h->j[m])) m = r;
        if (m == at) return;
        float ta = h->a[at], tr = h->r[at];
        int32_t tj = h->j[at];
        h->a[at] = h->a[m];
        h->j[at] = h->j[m];
        h->r[at] = h->r[m];
        h->a[m] = ta;
        h->j[m] = tj;
        h->r[m] = tr;
        at = m;
    }
}

static void topk_offer(topk *h, int32_t j, float r) {
    float a = fabsf(r);
    if (h->m < h->k) {
        h->a[h->m] = a;
        h->j[h->m] = j;
        h->r[h->m++] = r;
        if (h->m == h->k)
            for (size_t at = h->k / 2; at-- > 0;) sift_down(h, at);
        return;
    }
    if (worse(h->a[0], h->j[0], a, j)) {
        h->a[0] = a;
        h->j[0] = j;
        h->r[0] = r;
        sift_down(h, 0);
    }
}

/* The heap's entries to (src, val) in ascending j; returns how many. */
static size_t topk_sorted(const topk *h, int32_t *src, float *val) {
    size_t m = h->m;
    if (m <= 64) {  /* distinct j: each one's rank is where it goes */
        for (size_t q = 0; q < m; q++) {
            size_t r = 0;
            for (size_t p = 0; p < m; p++) r += h->j[p] < h->j[q];
            src[r] = h->j[q];
            if (val) val[r] = h->r[q];
        }
        return m;
    }
    for (size_t q = 0; q < m; q++) {  /* insertion sort by j */
        size_t p = q;
        for (; p > 0 && src[p - 1] > h->j[q]; p--) {
            src[p] = src[p - 1];
            if (val) val[p] = val[p - 1];
        }
        src[p] = h->j[q];
        if (val) val[p] = h->r[q];
    }
    return m;
}

static topk worker_heap(gk_corr *c, int worker, size_t k) {
    size_t at = (size_t)worker * (c->n + 16);
    topk h = {c->heap_a + at, c->heap_j + at, c->heap_r + at, 0, k};
    return h;
}

/* rho of the pair (lo < hi), computed as compute_rho and the fused pass do,
 * operation for operation, so that every path gives the same bits. */
static float pair_rho(const gk_corr *c, size_t lo, size_t hi, double inv_n) {
    double si = c->sum[lo] * inv_n;
    /* w, not inv_sd, on both sides: NaN for an invalid asset on either
     * side (inv_sd's 0 would give rho 0, an edge under a threshold <= 0) */
    float r = (float)((c->cross[lo * c->n + hi] - si * c->sum[hi]) * c->w[lo] * c->w[hi]);
    r = r > 1.0f ? 1.0f : r;
    r = r < -1.0f ? -1.0f : r;
    return r;
}

/* Validity and scales for this build: inv_sd, and w = inv_sd or NaN. */
static void prepare_scales(gk_corr *c) {
    for (size_t i = 0; i < c->n; i++) {
        double ss = centred_ss(c, i);
        c->inv_sd[i] = ss > 0.0 ? 1.0 / sqrt(ss) : 0.0;
        c->w[i] = ss > 0.0 ? c->inv_sd[i] : NAN;
    }
}

/* Threshold-only rule: sources of target i with |rho| >= threshold, from
 * the full rho matrix, ascending. */
static size_t threshold_row(const gk_corr *c, size_t i, float threshold, int32_t *src) {
    size_t n = c->n, m = 0;
    const float *row = c->rho + i * n;
    for (size_t j = 0; j < n; j++)
        if (fabsf(row[j]) >= threshold) src[m++] = (int32_t)j;  /* NaN: never */
    return m;
}

/* ---- the fused pass: rho and the top-k candidates, one read of the upper
 * triangle. Row i's candidates are the j with |rho_ij| >= cut[i]; cut[i]
 * sits a margin below the k-th |rho| of the previous build (correlations
 * move slowly), so a row has a few more than k. Each rho_ij (i < j) is
 * offered to row i and to row j; worker t keeps what it found per row in
 * its own lists (at most CAP each), merged per row after a barrier. A row
 * with at least k candidates has its exact top-k among them (everything
 * else is below the cut); one with fewer, or with a list that overflowed,
 * recomputes its whole row (the fallback). So the graph never depends on
 * the cuts, the split or the thread count. */

enum { CUT_MARGIN_X1000 = 20 };  /* cut = previous k-th |rho| - 0.02 */

/* 16 flags (bytes 0 or 1) to 16 bits, bit q = flag q: one multiply per 8
 * gathers each byte's low bit into the top byte. */
static uint32_t block_bits(const uint8_t *flags) {
    uint64_t lo, hi;
    memcpy(&lo, flags, 8);
    memcpy(&hi, flags + 8, 8);
    const uint64_t gather = 0x0102040810204080ull;
    return (uint32_t)((lo * gather) >> 56) | (uint32_t)((hi * gather) >> 56) << 8;
}

GK_PER_ISA static void fused_rows(gk_corr *c, int worker, size_t first, size_t last) {
    enum { BLOCK = 16 };
    size_t n = c->n;
    double inv_n = 1.0 / (double)c->count;
    int32_t *cnt = c->cand_n + (size_t)worker * n;
    int32_t *cj = c->cand_j + (size_t)worker * n * (GK_CORR_CAP + 1);
    float *cr = c->cand_r + (size_t)worker * n * (GK_CORR_CAP + 1);
    const double *restrict sum = c->sum, *restrict w = c->w;
    const float *restrict cut = c->cut;
    memset(cnt, 0, n * sizeof *cnt);
    for (size_t i = first; i < last; i++) {
        if (c->pending) gk_corr_slide_row(c, i);  /* the row is in L1 after */
        if (!(c->inv_sd[i] > 0.0)) continue;  /* invalid: no pair at all */
        double si = sum[i] * inv_n, di = c->inv_sd[i];
        float ci = cut[i];
        int32_t mine = cnt[i];  /* row i's own count, in a register */
        const double *restrict row = c->cross + i * n;
        for (size_t j0 = i + 1; j0 < n; j0 += BLOCK) {
            size_t len = n - j0 < BLOCK ? n - j0 : BLOCK;
            float r[BLOCK];
            uint8_t to_i[BLOCK] = {0}, to_j[BLOCK] = {0};
            for (size_t q = 0; q < len; q++) {
                size_t j = j0 + q;
                float v = (float)((row[j] - si * sum[j]) * di * w[j]);
                v = v > 1.0f ? 1.0f : v;
                v = v < -1.0f ? -1.0f : v;
                r[q] = v;
                float a = fabsf(v);
                to_i[q] = a >= ci;      /* NaN: neither */
                to_j[q] = a >= cut[j];
            }
            uint32_t mi = block_bits(to_i), mj = block_bits(to_j);
            /* only the values that pass: about k / N of them per side */
            for (; mi; mi &= mi - 1) {
                size_t q = (size_t)__builtin_ctz(mi);
                size_t slot = mine < GK_CORR_CAP ? (size_t)mine : GK_CORR_CAP;
                cj[i * (GK_CORR_CAP + 1) + slot] = (int32_t)(j0 + q);
                cr[i * (GK_CORR_CAP + 1) + slot] = r[q];
                mine++;
            }
            for (; mj; mj &= mj - 1) {
                size_t q = (size_t)__builtin_ctz(mj), j = j0 + q;
                int32_t m = cnt[j]++;
                size_t slot = m < GK_CORR_CAP ? (size_t)m : GK_CORR_CAP;
                cj[j * (GK_CORR_CAP + 1) + slot] = (int32_t)i;
                cr[j * (GK_CORR_CAP + 1) + slot] = r[q];
            }
        }
        cnt[i] = mine;
    }
}

/* Row i's whole rho row into buf (NaN for i itself and invalid j). */
static void full_row(const gk_corr *c, size_t i, float *buf) {
    size_t n = c->n;
    double inv_n = 1.0 / (double)c->count;
    for (size_t j = 0; j < n; j++)
        buf[j] = j < i ? pair_rho(c, j, i, inv_n) : j > i ? pair_rho(c, i, j, inv_n) : NAN;
}

static size_t count_at_least(const float *a, size_t padded, float t) {
    int32_t c = 0;
    for (size_t q = 0; q < padded; q++) c += a[q] >= t;
    return (size_t)c;
}

/* Smallest a >= t (INFINITY if none) and largest a < t (-1 if none: the
 * pads), 16 lanes at a time so that the selects vectorize. */
static float min_at_least(const float *a, size_t padded, float t) {
    float acc[16];
    for (int l = 0; l < 16; l++) acc[l] = INFINITY;
    for (size_t b = 0; b < padded; b += 16)
        for (int l = 0; l < 16; l++) {
            float v = a[b + (size_t)l] >= t ? a[b + (size_t)l] : INFINITY;
            acc[l] = v < acc[l] ? v : acc[l];
        }
    float low = INFINITY;
    for (int l = 0; l < 16; l++) low = acc[l] < low ? acc[l] : low;
    return low;
}

static float max_below(const float *a, size_t padded, float t) {
    float acc[16];
    for (int l = 0; l < 16; l++) acc[l] = -1.0f;
    for (size_t b = 0; b < padded; b += 16)
        for (int l = 0; l < 16; l++) {
            float v = a[b + (size_t)l] < t ? a[b + (size_t)l] : -1.0f;
            acc[l] = v > acc[l] ? v : acc[l];
        }
    float high = -1.0f;
    for (int l = 0; l < 16; l++) high = acc[l] > high ? acc[l] : high;
    return high;
}

static size_t count_equal(const float *a, size_t padded, float t) {
    int32_t c = 0;
    for (size_t q = 0; q < padded; q++) c += a[q] == t;
    return (size_t)c;
}

/* The top k of m candidates (j ascending, rho r) by |rho| desc, then j asc,
 * kept in j order, into out_j / out_r; *kth and *next get the k-th and
 * (k+1)-th best |rho| (-1: fewer candidates). Returns how many were kept.
 * First (select_split) a guess: `split` between last build's k-th and
 * (k+1)-th |rho| (correlations move slowly), moved value by value until
 * exactly k candidates are at or above it: those are the top k (all others
 * are below). Where that cannot decide (a tie at the boundary, no guess),
 * select_rank gives each candidate its rank: the number of candidates
 * better than it (distinct j: a strict order, so ranks are 0..m-1). Both
 * read a[], |r| padded with -1 to a multiple of 16, which select_split
 * writes. */
GK_PER_ISA static size_t select_split(const int32_t *j, const float *r, float *a, size_t m,
                                      size_t k, float split, int32_t *out_j, float *out_r,
                                      float *kth, float *next) {
    enum { LANES = 16 };
    size_t padded = (m + LANES - 1) / LANES * LANES;
    for (size_t q = 0; q < m; q++) a[q] = fabsf(r[q]);
    for (size_t q = m; q < padded; q++) a[q] = -1.0f;  /* below every |rho| */
    *kth = *next = -1.0f;
    if (m <= k) {
        memcpy(out_j, j, m * sizeof *j);
        memcpy(out_r, r, m * sizeof *r);
        float low = INFINITY;
        for (size_t q = 0; q < m; q++) low = a[q] < low ? a[q] : low;
        if (m == k) *kth = low;
        return m;
    }
    if (!(split < INFINITY)) return GK_CORR_UNDECIDED;
    /* Walk the split to exactly k at or above it, one boundary value per
     * step (a swap at the boundary costs one step). */
    float t = split;
    size_t above = count_at_least(a, padded, t);
    for (int steps = 0; above != k && steps < 8; steps++) {
        if (above > k) {  /* drop the smallest value at or above t */
            float low = min_at_least(a, padded, t);
            size_t at_low = count_equal(a, padded, low);
            if (above - at_low < k) break;  /* a tie across the boundary */
            t = nextafterf(low, INFINITY);
            above -= at_low;
        } else {  /* add the largest value below t (pads are below all) */
            float high = max_below(a, padded, t);
            size_t at_high = count_equal(a, padded, high);
            if (above + at_high > k) break;
            t = high;
            above += at_high;
        }
    }
    if (above != k) return GK_CORR_UNDECIDED;
    size_t kept = 0;
    for (size_t q = 0; q < m; q++) {  /* branch-free: which ones is data */
        out_j[kept] = j[q];
        out_r[kept] = r[q];
        kept += a[q] >= t;
    }
    *kth = min_at_least(a, padded, t);
    *next = max_below(a, padded, t);
    return kept;
}

static size_t select_rank(const int32_t *j, const float *r, const float *a, size_t m,
                          size_t k, int32_t *out_j, float *out_r, float *kth, float *next) {
    size_t padded = (m + 15) / 16 * 16, kept = 0;
    *kth = *next = -1.0f;
    for (size_t q = 0; q < m; q++) {
        float aq = a[q];
        int32_t better = 0, ties = 0;  /* j ascending: a p < q has the smaller j */
        for (size_t p = 0; p < padded; p++) {
            better += a[p] > aq;
            ties += a[p] == aq;
        }
        for (size_t p = 0; ties > 1 && p < q; p++) better += a[p] == aq;
        if (better == (int32_t)k) *next = aq;
        if (better >= (int32_t)k) continue;
        if (better == (int32_t)k - 1) *kth = aq;
        out_j[kept] = j[q];
        out_r[kept++] = r[q];
    }
    return kept;
}

/* Picks of row i from the workers' candidate lists, or by the fallback. */
static void pick_row(gk_corr *c, int worker, size_t i, size_t k, float threshold) {
    size_t n = c->n;
    int32_t *out_j = c->pick_j + i * PICK_STRIDE;
    float *out_r = c->pick_r + i * PICK_STRIDE;
    float kth = c->kth[i], next = c->next[i];  /* last build's: for the guess */
    c->pick_n[i] = 0;
    c->kth[i] = c->next[i] = -1.0f;
    if (!(c->inv_sd[i] > 0.0)) return;
    topk h = worker_heap(c, worker, k);  /* its arrays: room for the candidates */
    size_t total = 0;
    int overflow = 0;
    for (int t = 0; t < c->threads; t++) {
        int32_t m = c->cand_n[(size_t)t * n + i];
        overflow |= m > GK_CORR_CAP;
        total += (size_t)m;
    }
    if (!overflow && (total >= k || c->cut[i] <= threshold)) {
        /* Gathered in worker order the candidates are in ascending j: worker
         * t offers only its own rows, and to row i only rows below it, plus
         * (i's owner) i's own row above i. */
        int32_t *gj = h.j;
        float *gr = h.r;
        size_t m = 0;
        if (c->threads == 1) {  /* one list: read in place */
            gj = c->cand_j + i * (GK_CORR_CAP + 1);
            gr = c->cand_r + i * (GK_CORR_CAP + 1);
            m = total;
        }
        for (int t = 0; t < c->threads && c->threads > 1; t++) {
            size_t at = ((size_t)t * n + i) * (GK_CORR_CAP + 1);
            size_t got = (size_t)c->cand_n[(size_t)t * n + i];
            memcpy(gj + m, c->cand_j + at, got * sizeof *gj);
            memcpy(gr + m, c->cand_r + at, got * sizeof *gr);
            m += got;
        }
        float split = kth >= 0.0f && next >= 0.0f ? 0.5f * (kth + next) : INFINITY;
        size_t kept = c->select_split(gj, gr, h.a, m, k, split, out_j, out_r,
                                      &c->kth[i], &c->next[i]);
        if (kept == GK_CORR_UNDECIDED)
            kept = select_rank(gj, gr, h.a, m, k, out_j, out_r, &c->kth[i], &c->next[i]);
        c->pick_n[i] = (int32_t)kept;
        return;
    }
    /* the cut was too high or too low: the whole row */
    float *buf = c->row_buf + (size_t)worker * n;
    full_row(c, i, buf);
    for (size_t j = 0; j < n; j++)
        if (fabsf(buf[j]) >= threshold) topk_offer(&h, (int32_t)j, buf[j]);
    if (h.m == k) c->kth[i] = h.a[0];  /* the root: the k-th best */
    c->pick_n[i] = (int32_t)topk_sorted(&h, out_j, out_r);
}

typedef struct fused_job {
    gk_corr *c;
    size_t k;
    float threshold;
} fused_job;

static void fused_worker(void *ctx, int worker, int workers) {
    fused_job *job = ctx;
    gk_corr *c = job->c;
    c->fused_rows(c, worker, (size_t)c->split[worker], (size_t)c->split[worker + 1]);
    if (c->pool) gk_pool_barrier(c->pool);  /* every row's lists are complete */
    size_t n = c->n, per = (n + (size_t)workers - 1) / (size_t)workers;
    size_t first = (size_t)worker * per, last = first + per < n ? first + per : n;
    for (size_t i = first; i < last; i++) pick_row(c, worker, i, job->k, job->threshold);
}

/* The fused pass and the selection for the ISA the borrowed plan runs, or
 * else the one gk_plan_create would pick (GRAPHKERN_ISA included): AVX-512
 * kernels, or the portable C above (built per x86 level by GK_PER_ISA). */
static void choose_kernels(gk_corr *c, const gk_corr_options *opt) {
    gk_isa isa = GK_ISA_GENERIC;
    if (opt->threads_of) isa = opt->threads_of->isa;
    else if (gk_resolve_isa(GK_ISA_AUTO, &isa, NULL) != GK_OK) isa = GK_ISA_GENERIC;
    c->fused_rows = fused_rows;
    c->select_split = select_split;
    c->assemble = assemble;
#ifdef GK_CORR_HAVE_AVX512
    if (isa == GK_ISA_AVX512) {
        c->fused_rows = gk_corr_fused_rows_avx512;
        c->select_split = gk_corr_select_split_avx512;
        c->assemble = gk_corr_assemble_avx512;
    }
#endif
}

/* Every row's top-k picks (k <= KMAX) into pick_j / pick_r / pick_n. */
static void pick_all(gk_corr *c, size_t k, float threshold) {
    float margin = (float)CUT_MARGIN_X1000 / 1000.0f;
    for (size_t i = 0; i < c->n; i++) {
        float want = c->kth[i] - margin;  /* kth < 0: every |rho| >= threshold */
        c->cut[i] = !(c->inv_sd[i] > 0.0) ? INFINITY : want > threshold ? want : threshold;
    }
    fused_job job = {c, k, threshold};
    if (c->pool) gk_pool_run(c->pool, fused_worker, &job);
    else fused_worker(&job, 0, 1);
    c->pending = NULL;  /* the fused pass did the update */
}

/* R(j), the rows that picked j, for every j: a counting sort of the picks
 * by source, rows ascending within each list. Afterwards rev_first[j] is
 * where R(j) ends: R(i) is [rev_first[i - 1], rev_first[i]). */
static void reverse_lists(gk_corr *c) {
    /* restrict: the arrays are distinct, so counters and bounds stay in
     * registers instead of being reloaded after every store */
    const size_t n = c->n;
    const int32_t *restrict pick_n = c->pick_n, *restrict pick_j = c->pick_j;
    const float *restrict pick_r = c->pick_r;
    int32_t *restrict first = c->rev_first;
    gk_corr_rev *restrict rev = c->rev;
    memset(first, 0, (n + 1) * sizeof *first);
    for (size_t i = 0; i < n; i++) {
        const int32_t *pj = pick_j + i * PICK_STRIDE;
        for (int32_t q = 0, m = pick_n[i]; q < m; q++) first[pj[q] + 1]++;
    }
    for (size_t i = 0; i < n; i++) first[i + 1] += first[i];
    for (size_t i = 0; i < n; i++) {  /* rows in ascending i: lists ascending */
        const int32_t *pj = pick_j + i * PICK_STRIDE;
        const float *pr = pick_r + i * PICK_STRIDE;
        for (int32_t q = 0, m = pick_n[i]; q < m; q++) {
            /* one 8-byte store (the compiler made the struct's two fields
             * two): the scatter is bound by its stores */
            const gk_corr_rev entry = {(int32_t)i, pr[q]};
            uint64_t bits;
            memcpy(&bits, &entry, sizeof bits);
            memcpy(&rev[first[pj[q]]++], &bits, sizeof bits);
        }
    }
}

/* The picks as rows by target, in gk_graph_set_rows' layout (row i ends
 * at row_end[i], then a free slot, here target i and feature 0): row i is
 * picks(i) in ascending j, then (symmetric) the rows that picked i without
 * being picked by it, in ascending order, with the same rho: the order a
 * stable sort by target of "picks, then reversed picks" gives. Returns the
 * edge count. The portable rows (gk_corr_assemble_avx512 gives the same
 * by another route). */
GK_PER_ISA static size_t assemble_rows(gk_corr *c, int symmetric) {
    const size_t n = c->n;
    int32_t *restrict src = c->edges, *restrict row_end = c->row_end;
    float *restrict attr = c->attr;
    const int32_t *restrict pick_n = c->pick_n, *restrict pick_j = c->pick_j;
    const float *restrict pick_r = c->pick_r;
    const int32_t *restrict first = c->rev_first;
    const gk_corr_rev *restrict rev = c->rev;
    int32_t *restrict mark = c->picked;
    if (symmetric) memset(mark, 0, n * sizeof *mark);
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t *pj = pick_j + i * PICK_STRIDE;
        const float *pr = pick_r + i * PICK_STRIDE;
        size_t m = (size_t)pick_n[i];
        for (size_t p = 0; p < m; p++) {  /* loops, not memcpy: calls cost more */
            src[e + p] = pj[p];
            attr[e + p] = pr[p];
        }
        e += m;
        if (symmetric) {  /* R(i) less picks(i): a mark per pick, no branch */
            const int32_t stamp = (int32_t)i + 1;  /* marks of earlier rows differ */
            for (size_t p = 0; p < m; p++) mark[pj[p]] = stamp;
            for (int32_t q = i ? first[i - 1] : 0, qe = first[i]; q < qe; q++) {
                int32_t j = rev[q].row;
                src[e] = j;
                attr[e] = rev[q].rho;
                e += mark[j] != stamp;  /* j -> i is there already */
            }
        }
        row_end[i] = (int32_t)e;
        src[e] = (int32_t)i;  /* the free slot */
        attr[e++] = 0.0f;
    }
    return e - n;
}

/* The portable assembly (gk_corr_assemble_fn). */
static size_t assemble(gk_corr *c, int symmetric) {
    if (symmetric) reverse_lists(c);
    return assemble_rows(c, symmetric);
}

/* Is j among target i's selected sources (k > KMAX path)? They are in
 * ascending order; a branch-free search (the steps compile to cmovs). */
static int row_has(const gk_corr *c, size_t i, int32_t j) {
    const int32_t *base = c->edges + c->row_first[i];
    int32_t len = c->row_end[i] - c->row_first[i];
    if (len == 0) return 0;
    while (len > 1) {
        int32_t half = len / 2;
        base = base[half - 1] < j ? base + half : base;
        len -= half;
    }
    return *base == j;
}

/* Symmetrization for k > KMAX: append i -> j wherever j -> i was picked
 * but i -> j was not; targets at edges + N(N-1). Returns the edge count. */
static size_t add_reverse_edges_search(gk_corr *c, size_t selected) {
    size_t n = c->n, e = selected;
    int32_t *src = c->edges, *dst = c->edges + n * (n - 1);
    for (size_t m = 0; m < selected; m++) {
        int32_t j = src[m], i = dst[m];
        if (row_has(c, (size_t)j, i)) continue;
        src[e] = i;
        dst[e] = j;
        c->attr[e] = c->attr[m];  /* rho is symmetric */
        e++;
    }
    return e;
}

gk_status gk_corr_build_graph(gk_corr *c, const gk_corr_rule *rule, gk_graph *g,
                              size_t *num_edges, gk_error *err) {
    if (num_edges) *num_edges = 0;
    if (!c || !rule || !g)
        return gk_fail(err, GK_EINVAL, "gk_corr_build_graph: NULL argument");
    if (rule->top_k < 0)
        return gk_fail(err, GK_EINVAL, "gk_corr_build_graph: top_k = %d", rule->top_k);
    if (g->edge_dim > 1)
        return gk_fail(err, GK_EUNSUPPORTED, "gk_corr_build_graph: the model has "
                       "edge_dim %d; correlation graphs carry one feature (rho)",
                       g->edge_dim);
    size_t n = c->n, cap = n * (n - 1);
    size_t k = (size_t)rule->top_k < n - 1 ? (size_t)rule->top_k : n - 1;
    float threshold = rule->threshold > 0.0f ? rule->threshold : 0.0f;
    size_t e = 0;
    if (rule->top_k && k <= GK_CORR_KMAX && c->count >= 2) {
        /* the rows straight into the graph's CSR: no COO, no index checks */
        prepare_scales(c);
        pick_all(c, k, threshold);
        e = c->assemble(c, rule->symmetric);
        gk_status st = gk_graph_set_rows(g, n, c->row_end, c->edges,
                                         g->edge_dim == 1 ? c->attr : NULL, err);
        if (st == GK_OK && num_edges) *num_edges = e;
        return st;
    } else if (rule->top_k && c->count >= 2) {  /* k > KMAX: row by row, heaps */
        flush(c);
        prepare_scales(c);
        int32_t *dst = c->edges + cap;
        float *buf = c->row_buf;
        for (size_t i = 0; i < n; i++) {
            topk h = worker_heap(c, 0, k);
            if (c->inv_sd[i] > 0.0) {
                full_row(c, i, buf);
                for (size_t j = 0; j < n; j++)
                    if (fabsf(buf[j]) >= threshold) topk_offer(&h, (int32_t)j, buf[j]);
            }
            size_t got = topk_sorted(&h, c->edges + e, c->attr + e);
            for (size_t m = 0; m < got; m++) dst[e + m] = (int32_t)i;
            c->row_first[i] = (int32_t)e;
            c->row_end[i] = (int32_t)(e + got);
            e += got;
        }
        if (rule->symmetric) e = add_reverse_edges_search(c, e);
        if (e < cap) memmove(c->edges + e, dst, e * sizeof *dst);
    } else if (c->count >= 2) {  /* threshold only: the full matrix, scanned */
        flush(c);
        compute_rho(c, c->rho, NAN);
        int32_t *dst = c->edges + cap;
        for (size_t i = 0; i < n; i++) {
            size_t got = threshold_row(c, i, threshold, c->edges + e);
            const float *row = c->rho + i * n;
            for (size_t m = 0; m < got; m++) {
                dst[e + m] = (int32_t)i;
                c->attr[e + m] = row[c->edges[e + m]];
            }
            e += got;
        }
        if (e < cap) memmove(c->edges + e, dst, e * sizeof *dst);
    }
    gk_status st = gk_graph_set_coo(g, n, e, c->edges, GK_INDEX_I32,
                                    g->edge_dim == 1 ? c->attr : NULL, err);
    if (st == GK_OK && num_edges) *num_edges = e;
    return st;
}
