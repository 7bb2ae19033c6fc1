/* Rolling-window Pearson correlations and the graphs built from them.
 *
 * State: the window as a ring of T rows of N doubles (a non-finite return is
 * stored as 0 and flagged), the column sums S[N] and the upper triangle of
 * the cross sums C[N, N] = sum over the window of r r^T, all float64. A push
 * adds the new row's outer product and subtracts the dropped row's (O(N^2)),
 * every K pushes dsyrk recomputes C from the window (O(N^2 T)) so that
 * rounding drift cannot build up. Graph building computes rho once (O(N^2))
 * and applies the rule on it; all memory exists from gk_corr_create on. */
#include <blis.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "kernels.h"
#include "model.h"
#include "per_isa.h"

enum { GK_CORR_SEED = 64 };  /* top-k seeds kept per row, for k <= 64 */

struct gk_corr {
    size_t n, window;
    int recompute_every;
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
    double *inv_sd;        /* [n] 1/sqrt(centred sum of squares), 0: invalid */
    float *rho;            /* [n, n] full symmetric, built per graph        */
    int32_t *edges;        /* [2, n(n-1)] COO: sources, then targets        */
    float *attr;           /* [n(n-1)] rho of each edge                     */
    int32_t *row_first;    /* [n] first COO slot of target i's top-k block  */
    int32_t *row_count;    /* [n]                                           */
    float *best;           /* [n] top-k heap: |rho|                         */
    int32_t *heap_idx;     /* [n] top-k heap: source                        */
    int32_t *prev;         /* [n, GK_CORR_SEED] last build's picks per row  */
    int32_t *prev_count;   /* [n]                                           */
    int32_t *rev_first;    /* [n + 1] symmetrization: rows that picked i ... */
    int32_t *rev_list;     /* [n, GK_CORR_SEED] ... in ascending order      */
    const void *blas_context; /* gk_generic_blas_context(), chosen once   */
};

gk_corr_options gk_corr_default_options(void) {
    gk_corr_options o = {1024};
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
    c->blas_context = gk_generic_blas_context();
    c->recompute_every = opt.recompute_every;
    c->rows = gk_calloc_array(window * n, sizeof(double));
    c->bad = gk_calloc_array(window * n, 1);
    c->bad_count = gk_calloc_array(n, sizeof(int32_t));
    c->sum = gk_calloc_array(n, sizeof(double));
    c->cross = gk_calloc_array(n * n, sizeof(double));
    c->dropped = gk_calloc_array(n, sizeof(double));
    c->inv_sd = gk_calloc_array(n, sizeof(double));
    c->rho = gk_calloc_array(n * n, sizeof(float));
    c->edges = gk_calloc_array(2 * max_edges, sizeof(int32_t));
    c->attr = gk_calloc_array(max_edges, sizeof(float));
    c->row_first = gk_calloc_array(n, sizeof(int32_t));
    c->row_count = gk_calloc_array(n, sizeof(int32_t));
    c->best = gk_calloc_array(n, sizeof(float));
    c->heap_idx = gk_calloc_array(n, sizeof(int32_t));
    c->prev = gk_calloc_array(n * GK_CORR_SEED, sizeof(int32_t));
    c->prev_count = gk_calloc_array(n, sizeof(int32_t));
    c->rev_first = gk_calloc_array(n + 1, sizeof(int32_t));
    c->rev_list = gk_calloc_array(n * GK_CORR_SEED, sizeof(int32_t));
    if (!c->rows || !c->bad || !c->bad_count || !c->sum || !c->cross || !c->dropped ||
        !c->inv_sd ||
        !c->rho || !c->edges || !c->attr || !c->row_first || !c->row_count || !c->best ||
        !c->heap_idx || !c->prev || !c->prev_count || !c->rev_first || !c->rev_list) {
        gk_corr_free(c);
        return gk_fail(err, GK_ENOMEM, "gk_corr_create: cannot allocate %zu x %zu",
                       n, window);
    }
    gk_corr_recompute(c);  /* first use of dsyrk: BLIS buffers exist from now on */
    *out = c;
    gk_ok(err);
    return GK_OK;
}

void gk_corr_free(gk_corr *c) {
    if (!c) return;
    gk_free(c->rows);
    gk_free(c->bad);
    gk_free(c->bad_count);
    gk_free(c->sum);
    gk_free(c->cross);
    gk_free(c->dropped);
    gk_free(c->inv_sd);
    gk_free(c->rho);
    gk_free(c->edges);
    gk_free(c->attr);
    gk_free(c->row_first);
    gk_free(c->row_count);
    gk_free(c->best);
    gk_free(c->heap_idx);
    gk_free(c->prev);
    gk_free(c->prev_count);
    gk_free(c->rev_first);
    gk_free(c->rev_list);
    gk_free(c);
}

/* ---- the window ------------------------------------------------------------ */

/* The O(N²) passes run per tick, built once per ISA (per_isa.h). */

/* C[i, j>=i] += a_i a_j - b_i b_j; S += a - b. Rows never yet written are
 * zeros, so filling the window and sliding it are the same update. */
GK_PER_ISA static void slide(gk_corr *c, const double *a, const double *b) {
    size_t n = c->n;
    for (size_t i = 0; i < n; i++) {
        double ai = a[i], bi = b[i];
        double *row = c->cross + i * n;
        for (size_t j = i; j < n; j++) row[j] += ai * a[j] - bi * b[j];
        c->sum[i] += ai - bi;
    }
}

void gk_corr_recompute(gk_corr *c) {
    if (!c) return;
    size_t n = c->n, t = c->window;
    double one = 1.0, zero = 0.0;
    rntm_t rntm;
    bli_rntm_init(&rntm);
    bli_rntm_set_num_threads(1, &rntm);  /* the caller's thread only */
    /* C = R^T R over the whole ring (unwritten rows are zero). */
    bli_dsyrk_ex(BLIS_UPPER, BLIS_TRANSPOSE, (dim_t)n, (dim_t)t, &one, c->rows,
                 (inc_t)n, 1, &zero, c->cross, (inc_t)n, 1, (cntx_t *)c->blas_context,
                 &rntm);
    for (size_t i = 0; i < n; i++) c->sum[i] = 0.0;
    for (size_t r = 0; r < t; r++)
        for (size_t i = 0; i < n; i++) c->sum[i] += c->rows[r * n + i];
    c->since_recompute = 0;
}

gk_status gk_corr_push(gk_corr *c, const float *returns, gk_error *err) {
    if (!c || !returns) return gk_fail(err, GK_EINVAL, "gk_corr_push: NULL argument");
    size_t n = c->n;
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
    if (c->recompute_every > 0 && ++c->since_recompute >= c->recompute_every)
        gk_corr_recompute(c);
    else
        slide(c, slot, old);
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
    compute_rho(c, rho, 0.0f);
    for (size_t i = 0; i < c->n; i++)
        if (c->inv_sd[i] > 0.0) rho[i * c->n + i] = 1.0f;
}

/* ---- graphs ------------------------------------------------------------------ */

/* A min-heap of the k best (|rho|, j) seen so far: "better" is a larger
 * |rho|, then a smaller j, so the root is the one to evict. */
static int worse(float a, int32_t i, float b, int32_t j) {
    return a < b || (a == b && i > j);
}

static void sift_down(float *val, int32_t *idx, size_t k, size_t at) {
    for (;;) {
        size_t l = 2 * at + 1, r = l + 1, m = at;
        if (l < k && worse(val[l], idx[l], val[m], idx[m])) m = l;
        if (r < k && worse(val[r], idx[r], val[m], idx[m])) m = r;
        if (m == at) return;
        float tv = val[at];
        int32_t ti = idx[at];
        val[at] = val[m];
        idx[at] = idx[m];
        val[m] = tv;
        idx[m] = ti;
        at = m;
    }
}

/* Insert (a, j) into the k-heap (val, idx) holding m entries. */
static size_t heap_offer(float *val, int32_t *idx, size_t m, size_t k, float a,
                         int32_t j) {
    if (m < k) {
        val[m] = a;
        idx[m++] = j;
        if (m == k)
            for (size_t at = k / 2; at-- > 0;) sift_down(val, idx, k, at);
        return m;
    }
    if (worse(val[0], idx[0], a, j)) {
        val[0] = a;
        idx[0] = j;
        sift_down(val, idx, k, 0);
    }
    return m;
}

/* Sources of target i by the rule, written to src in ascending j: the top
 * k by |rho| among |rho| >= threshold (all of them when k == 0), ties going
 * to the smaller j. Returns how many.
 *
 * Correlations move slowly, so the row's picks from the previous build
 * (the seeds) are usually its picks again. The seeds' rho are set to NaN
 * for the scan (restored after), and the scan looks only for values at or
 * above the smallest seed: blocks of 16 with none are skipped by one vector
 * test. If nothing is found, the seeds are the answer, already in order;
 * otherwise a k-heap takes the seeds and every value found. The result
 * does not depend on the seeds. */
GK_PER_ISA static size_t select_row(gk_corr *c, size_t i, float threshold, size_t k,
                                    int32_t *src) {
    size_t n = c->n, m = 0;
    float *row = c->rho + i * n;
    if (k == 0) {
        for (size_t j = 0; j < n; j++)
            if (fabsf(row[j]) >= threshold) src[m++] = (int32_t)j;  /* NaN: never */
        return m;
    }
    float *val = c->best;
    int32_t *idx = c->heap_idx;
    float saved[GK_CORR_SEED];
    const int32_t *prev = c->prev + i * GK_CORR_SEED;
    int32_t seeds = 0;
    int seeds_hold = c->prev_count[i] == (int32_t)k;  /* k seeds, all >= threshold */
    float smallest = INFINITY;
    for (; seeds < c->prev_count[i] && (size_t)seeds < k; seeds++) {
        int32_t j = prev[seeds];
        saved[seeds] = row[j];
        row[j] = NAN;  /* seeds enter through the heap, if one is built */
        float a = fabsf(saved[seeds]);
        seeds_hold &= a >= threshold;
        smallest = a < smallest ? a : smallest;
    }
    int heap = !seeds_hold;
    for (int32_t q = 0; heap && q < seeds; q++)
        if (fabsf(saved[q]) >= threshold)
            m = heap_offer(val, idx, m, k, fabsf(saved[q]), prev[q]);
    float cut = heap ? (m == k && val[0] > threshold ? val[0] : threshold) : smallest;
    enum { BLOCK = 16 };
    for (size_t j0 = 0; j0 < n; j0 += BLOCK) {
        size_t len = n - j0 < BLOCK ? n - j0 : BLOCK;
        int any = 0;
        for (size_t q = 0; q < len; q++) any |= fabsf(row[j0 + q]) >= cut;
        if (!any) continue;  /* NaN (diagonal, invalid, seeds) never passes */
        for (size_t j = j0; j < j0 + len; j++) {
            float a = fabsf(row[j]);
            if (!(a >= cut)) continue;
            if (!heap) {  /* a rival to the seeds: now the heap */
                for (int32_t q = 0; q < seeds; q++)
                    m = heap_offer(val, idx, m, k, fabsf(saved[q]), prev[q]);
                heap = 1;
            }
            m = heap_offer(val, idx, m, k, a, (int32_t)j);
            cut = m == k && val[0] > threshold ? val[0] : threshold;
        }
    }
    for (int32_t q = 0; q < seeds; q++) row[prev[q]] = saved[q];
    if (!heap) {  /* the seeds again, in ascending j as stored */
        memcpy(src, prev, k * sizeof *src);
        return k;
    }
    if (m <= 64) {  /* distinct j: each one's rank is where it goes */
        for (size_t q = 0; q < m; q++) {
            int32_t v = idx[q];
            size_t r = 0;
            for (size_t p = 0; p < m; p++) r += idx[p] < v;
            src[r] = v;
        }
    } else {
        for (size_t q = 0; q < m; q++) {  /* insertion sort by j */
            int32_t v = idx[q];
            size_t p = q;
            for (; p > 0 && src[p - 1] > v; p--) src[p] = src[p - 1];
            src[p] = v;
        }
    }
    c->prev_count[i] = 0;
    if (k <= GK_CORR_SEED) {
        memcpy(c->prev + i * GK_CORR_SEED, src, m * sizeof *src);
        c->prev_count[i] = (int32_t)m;
    }
    return m;
}

/* Symmetrization: append i -> j wherever j -> i was picked (j in picks(i))
 * but i -> j was not (i not in picks(j)), in the order of the picks. R(i),
 * the rows that picked i, comes from one counting sort of the picks and is
 * in ascending order; then each row is a merge of picks(i) with R(i).
 * Returns the new edge count. Needs k <= GK_CORR_SEED (rev_list's size). */
static size_t add_reverse_edges(gk_corr *c, size_t selected) {
    const size_t n = c->n;
    int32_t *src = c->edges, *dst = c->edges + n * (n - 1);
    int32_t *first = c->rev_first, *list = c->rev_list;
    memset(first, 0, (n + 1) * sizeof *first);
    for (size_t m = 0; m < selected; m++) first[src[m] + 1]++;
    for (size_t i = 0; i < n; i++) first[i + 1] += first[i];
    for (size_t m = 0; m < selected; m++) list[first[src[m]]++] = dst[m];  /* ascending */
    for (size_t i = n; i > 0; i--) first[i] = first[i - 1];  /* back to starts */
    first[0] = 0;
    size_t e = selected;
    for (size_t i = 0; i < n; i++) {
        const int32_t *r = list + first[i], *r_end = list + first[i + 1];
        size_t m = (size_t)c->row_first[i], m_end = m + (size_t)c->row_count[i];
        for (; m < m_end; m++) {
            int32_t j = src[m];
            while (r < r_end && *r < j) r++;
            if (r < r_end && *r == j) continue;  /* i -> j is there already */
            src[e] = (int32_t)i;
            dst[e] = j;
            c->attr[e] = c->attr[m];  /* rho is symmetric */
            e++;
        }
    }
    return e;
}

/* Is j among target i's selected sources? They are in ascending order; a
 * branch-free search (the steps compile to conditional moves). */
static int row_has(const gk_corr *c, size_t i, int32_t j) {
    const int32_t *base = c->edges + c->row_first[i];
    int32_t len = c->row_count[i];
    if (len == 0) return 0;
    while (len > 1) {
        int32_t half = len / 2;
        base = base[half - 1] < j ? base + half : base;
        len -= half;
    }
    return *base == j;
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
    int32_t *src = c->edges;  /* sources in [0, cap), targets after them */
    int32_t *dst = c->edges + cap;

    compute_rho(c, c->rho, NAN);
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        size_t got = select_row(c, i, threshold, rule->top_k ? k : 0, src + e);
        c->row_first[i] = (int32_t)e;
        c->row_count[i] = (int32_t)got;
        const float *row = c->rho + i * n;  /* still in cache: the edge features now */
        for (size_t m = 0; m < got; m++) {
            dst[e + m] = (int32_t)i;
            c->attr[e + m] = row[src[e + m]];
        }
        e += got;
    }
    if (rule->symmetric && rule->top_k && k <= GK_CORR_SEED) {
        e = add_reverse_edges(c, e);
    } else if (rule->symmetric && rule->top_k) {  /* add i -> j wherever j <- i only */
        size_t selected = e;
        for (size_t m = 0; m < selected; m++) {
            int32_t j = src[m], i = dst[m];
            if (row_has(c, (size_t)j, i)) continue;
            src[e] = i;
            dst[e] = j;
            c->attr[e] = c->attr[m];  /* rho is symmetric */
            e++;
        }
    }
    /* set_coo reads [2, E] contiguous: move the targets next to the sources. */
    if (e < cap) memmove(src + e, dst, e * sizeof *dst);
    gk_status st = gk_graph_set_coo(g, n, e, c->edges, GK_INDEX_I32,
                                    g->edge_dim == 1 ? c->attr : NULL, err);
    if (st == GK_OK && num_edges) *num_edges = e;
    return st;
}
