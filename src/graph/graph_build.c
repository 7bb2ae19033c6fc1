/* Filling a graph: COO edge lists, or a declared complete graph, to CSR by
 * target, once per self-loop policy of the model (graph.h).
 *
 * Validation happens here, once per graph, so that inference can trust the
 * graph: every index is in range, every edge feature finite, every size
 * within capacity. Building never allocates: gk_graph_create sized every
 * buffer for the worst case.
 *
 * The COO is read at memory speed: one vectorized pass checks the ranges,
 * notes whether the targets are sorted and counts the self loops. Sorted
 * targets (PyG's usual order, and every dense or top-k builder's) make each
 * CSR row a block of the input, found by binary search and copied whole;
 * other orders take a counting sort. A declared complete graph reads no
 * indices at all, and rewrites none when its node count is unchanged; a
 * COO of the complete graph in its canonical order is recognised by one
 * read and built the same way (no index copied). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "graph.h"
#include "finite.h"
#include "per_isa.h"

/* ---- checks ---------------------------------------------------------------- */

typedef struct coo_summary {
    int bad;        /* some index is not a node in [0, n)       */
    int sorted;     /* targets nondecreasing                     */
    size_t loops;   /* edges whose source is their own target    */
} coo_summary;

static int64_t edge_end(const void *edge_index, gk_index_type type, size_t i) {
    return type == GK_INDEX_I64 ? ((const int64_t *)edge_index)[i]
                                : ((const int32_t *)edge_index)[i];
}

/* After the scan found a bad index: name the first one. */
static gk_status report_bad_index(size_t n, size_t e, const void *edge_index,
                                  gk_index_type type, gk_error *err) {
    for (size_t k = 0; k < 2 * e; k++) {
        int64_t v = edge_end(edge_index, type, k);
        if (v < 0 || (uint64_t)v >= n)
            return gk_fail(err, GK_EINDEX,
                           "edge_index[%d][%zu] = %lld is not a node in [0, %zu)",
                           k < e ? 0 : 1, k < e ? k : k - e, (long long)v, n);
    }
    return gk_fail(err, GK_EINDEX, "edge_index has an index outside [0, %zu)", n);
}

static gk_status check_attr(size_t e, int d, const float *attr, gk_error *err) {
    size_t k = gk_first_nonfinite(attr, e * (size_t)d);
    if (k == e * (size_t)d) return GK_OK;
    return gk_fail(err, GK_ENONFINITE, "edge_attr[%zu][%zu] is %f", k / (size_t)d,
                   k % (size_t)d, (double)attr[k]);
}

/* ---- self loops ----------------------------------------------------------- */

/* a[0], a[stride], ... (count of them) in double, by four running sums so
 * that the adds overlap; with stride 1 (the constant) the loop vectorizes. */
static inline double sum4(const float *a, size_t count, size_t stride) {
    double part[4] = {0, 0, 0, 0};
    size_t e = 0;
    for (; e + 4 <= count; e += 4)
        for (size_t q = 0; q < 4; q++) part[q] += a[(e + q) * stride];
    for (; e < count; e++) part[0] += a[e * stride];
    return (part[0] + part[1]) + (part[2] + part[3]);
}

/* Self-loop feature of one node from its row's `count` other edges, whose
 * features start at a (PyG's add_self_loops with a string fill_value
 * reduces over the target index; an empty row gives 0, or 1 for "mul"
 * whose reduction starts from ones). Inlined, so that it runs in its
 * caller's ISA: called from copy_rows' AVX-512 clone as a separate SSE
 * function (no vzeroupper between), gk_graph_set_rows took 8x as long. */
static inline __attribute__((always_inline)) void fill_loop_attr(const gk_graph_view *v, int d,
                                                                 const float *a, size_t count,
                                                                 float *loop) {
    for (int k = 0; k < d; k++) {
        double acc = 0.0;
        switch (v->fill) {
        case GK_FILL_CONSTANT: acc = v->fill_constant; break;
        case GK_FILL_MUL:
            acc = 1.0;
            for (size_t e = 0; e < count; e++) acc *= a[e * (size_t)d + (size_t)k];
            break;
        case GK_FILL_MAX:
            acc = count ? -INFINITY : 0.0;
            for (size_t e = 0; e < count; e++) {  /* not fmax: aarch64 gcc 12 ICEs on it */
                double x = a[e * (size_t)d + (size_t)k];
                acc = x > acc ? x : acc;
            }
            break;
        case GK_FILL_MIN:
            acc = count ? INFINITY : 0.0;
            for (size_t e = 0; e < count; e++) {
                double x = a[e * (size_t)d + (size_t)k];
                acc = x < acc ? x : acc;
            }
            break;
        default:  /* add, mean */
            acc = d == 1 ? sum4(a, count, 1) : sum4(a + k, count, (size_t)d);
            if (v->fill == GK_FILL_MEAN && count) acc /= (double)count;
        }
        loop[k] = (float)acc;
    }
}

/* Node i's own loop in `slot`, the last of its row, which starts at `row`. */
static void add_loop(gk_graph_view *v, int d, size_t i, int32_t row, int32_t slot) {
    v->src[slot] = (int32_t)i;
    if (d > 0)
        fill_loop_attr(v, d, v->attr + (size_t)row * (size_t)d, (size_t)(slot - row),
                       v->attr + (size_t)slot * (size_t)d);
}

/* ---- COO -> CSR ----------------------------------------------------------- */

/* Row i as the complete builders lay it out: sources ascending, and with
 * loops replaced, i's own loop last. */
GK_PER_ISA static int row_is_canonical(const int32_t *row, size_t n, size_t i, int loop_last) {
    uint32_t differ = 0;
    if (!loop_last) {
        for (size_t k = 0; k < n; k++) differ |= (uint32_t)row[k] ^ (uint32_t)k;
        return !differ;
    }
    for (size_t k = 0; k + 1 < n; k++) differ |= (uint32_t)row[k] ^ (uint32_t)(k + (k >= i));
    return !differ && row[n - 1] == (int32_t)i;
}

/* A complete view holds every (j, i) pair exactly once: n rows of n. Rows in
 * the canonical order pass by one compare each; others by marking.
 * *canonical: whether every row was in the canonical order. */
static int view_is_complete(const gk_graph_view *v, size_t n, int32_t *mark, int *canonical) {
    *canonical = 0;
    if (v->num_edges != n * n) return 0;
    int marks_ready = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t *row = v->src + v->row_ptr[i];
        if ((size_t)(v->row_ptr[i + 1] - v->row_ptr[i]) != n) return 0;
        if (row_is_canonical(row, n, i, v->add_self_loops)) continue;
        if (!marks_ready) {
            for (size_t j = 0; j < n; j++) mark[j] = -1;
            marks_ready = 1;
        }
        for (size_t k = 0; k < n; k++) {
            if (mark[row[k]] == (int32_t)i) return 0;
            mark[row[k]] = (int32_t)i;
        }
    }
    *canonical = !marks_ready;
    return 1;
}

/* Edge count, largest row and completeness of a freshly built view;
 * canonical: the builder saw every row in the canonical complete order. */
static void finish_view(gk_graph *g, gk_graph_view *v, size_t n, int canonical) {
    v->num_edges = (size_t)v->row_ptr[n];
    v->max_in_degree = 0;
    for (size_t i = 0; i < n; i++) {
        size_t degree = (size_t)(v->row_ptr[i + 1] - v->row_ptr[i]);
        if (degree > v->max_in_degree) v->max_in_degree = degree;
    }
    int every_row_canonical = canonical;
    v->is_complete = canonical ||
                     view_is_complete(v, n, g->scratch + g->max_nodes + 1, &every_row_canonical);
    v->complete_canonical = v->is_complete && every_row_canonical;
    v->complete_key = 0;  /* its rows are this COO's now */
}


static void fill_complete(gk_graph *g, size_t n, int self_loops, int source_major,
                          const float *edge_attr);

#define INDEX_T int32_t
#define PASS(name) name##_i32
#include "graph_coo_passes.inc"
#define INDEX_T int64_t
#define PASS(name) name##_i64
#include "graph_coo_passes.inc"

/* Checks shared by the setters; on failure the graph is left empty.
 * attr_rows: the feature rows to check finite (e, or with
 * gk_graph_set_rows' free slots, e + n). */
static gk_status check_sizes(gk_graph *g, const char *caller, size_t n, size_t e,
                             const float *edge_attr, size_t attr_rows, gk_error *err) {
    if (!g) return gk_fail(err, GK_EINVAL, "%s: NULL graph", caller);
    /* Any failure leaves the graph empty (gk_infer refuses it), never still
     * holding the previous edges as if this call had not happened. */
    g->num_nodes = g->num_edges = 0;
    if (n == 0) return gk_fail(err, GK_EINVAL, "graph needs at least one node");
    if (n > g->max_nodes)
        return gk_fail(err, GK_ELIMIT, "%zu nodes exceed the graph's capacity of %zu",
                       n, g->max_nodes);
    if (e > g->max_edges)
        return gk_fail(err, GK_ELIMIT, "%zu edges exceed the graph's capacity of %zu",
                       e, g->max_edges);
    if (g->edge_dim > 0 && e > 0 && !edge_attr)
        return gk_fail(err, GK_EINVAL, "the model has edge_dim %d: edge_attr is required",
                       g->edge_dim);
    if (g->edge_dim > 0 && edge_attr) return check_attr(attr_rows, g->edge_dim, edge_attr, err);
    return GK_OK;
}

gk_status gk_graph_set_coo(gk_graph *g, size_t n, size_t e,
                           const void *edge_index, gk_index_type type,
                           const float *edge_attr, gk_error *err) {
    if (g && type != GK_INDEX_I32 && type != GK_INDEX_I64) {
        g->num_nodes = g->num_edges = 0;
        return gk_fail(err, GK_EINVAL, "unknown edge_index type %d", (int)type);
    }
    if (g && e > 0 && !edge_index) {
        g->num_nodes = g->num_edges = 0;
        return gk_fail(err, GK_EINVAL, "edge_index is NULL");
    }
    gk_status st = check_sizes(g, "gk_graph_set_coo", n, e, edge_attr, e, err);
    if (st != GK_OK) return st;
    int loops = -1;  /* the complete graph's canonical COO: with loops (1), without (0) */
    if (n >= 2 && e % n == 0 && (e / n == n || e / n == n - 1)) loops = e / n == n;  /* no n² */
    for (int source_major = 0; loops >= 0 && source_major < 2; source_major++) {
        int canonical = type == GK_INDEX_I64
            ? complete_canonical_i64(edge_index, (const int64_t *)edge_index + e, n, loops,
                                     source_major)
            : complete_canonical_i32(edge_index, (const int32_t *)edge_index + e, n, loops,
                                     source_major);
        if (canonical) {
            fill_complete(g, n, loops, source_major, edge_attr);
            gk_ok(err);
            return GK_OK;
        }
    }
    coo_summary sum = {0, 1, 0};
    if (e > 0 && type == GK_INDEX_I64)
        scan_i64(edge_index, (const int64_t *)edge_index + e, e, n, &sum);
    else if (e > 0)
        scan_i32(edge_index, (const int32_t *)edge_index + e, e, n, &sum);
    if (sum.bad) return report_bad_index(n, e, edge_index, type, err);

    const float *attr = g->edge_dim > 0 && e > 0 ? edge_attr : NULL;
    if (type == GK_INDEX_I64)
        build_views_i64(g, n, edge_index, (const int64_t *)edge_index + e, e, &sum, attr);
    else
        build_views_i32(g, n, edge_index, (const int32_t *)edge_index + e, e, &sum, attr);
    g->num_nodes = n;
    g->num_edges = e;
    gk_ok(err);
    return GK_OK;
}

/* ---- rows grouped by target (the correlation builder) -------------------- */

/* gk_graph_set_rows' rows into view v. A view that adds self loops has
 * the caller's layout, a free slot after each row: the whole block is
 * copied at once, then each free slot gets the row's own loop (its
 * feature from the input row, not the copy just stored: no store
 * forwarding). A view without loops closes the gaps, row by row. */
GK_PER_ISA static void copy_rows(gk_graph_view *v, int d, size_t n, const int32_t *row_end,
                                 const int32_t *src, const float *attr) {
    int32_t *restrict out = v->src, *restrict ptr = v->row_ptr;
    float *restrict out_attr = v->attr;
    const size_t dz = d > 0 ? (size_t)d : 0, slots = (size_t)row_end[n - 1] + 1;
    ptr[0] = 0;
    if (v->add_self_loops) {
        memcpy(out, src, slots * sizeof *out);
        if (attr && dz > 0) memcpy(out_attr, attr, slots * dz * sizeof *out_attr);
        for (size_t i = 0, a = 0; i < n; i++) {
            const size_t b = (size_t)row_end[i];
            out[b] = (int32_t)i;
            if (dz > 0) fill_loop_attr(v, d, attr ? attr + a * dz : NULL, b - a, out_attr + b * dz);
            ptr[i + 1] = (int32_t)b + 1;
            a = b + 1;
        }
        return;
    }
    for (size_t i = 0, a = 0, pos = 0; i < n; i++) {
        const size_t b = (size_t)row_end[i], len = b - a;
        for (size_t k = 0; k < len; k++) out[pos + k] = src[a + k];
        if (attr && dz == 1)
            for (size_t k = 0; k < len; k++) out_attr[pos + k] = attr[a + k];
        else if (attr && dz > 1)
            memcpy(out_attr + pos * dz, attr + a * dz, len * dz * sizeof *attr);
        pos += len;
        ptr[i + 1] = (int32_t)pos;
        a = b + 1;
    }
}

gk_status gk_graph_set_rows(gk_graph *g, size_t n, const int32_t *row_end,
                            const int32_t *src, const float *attr, gk_error *err) {
    size_t slots = n ? (size_t)row_end[n - 1] + 1 : 0, e = slots - n;
    gk_status st = check_sizes(g, "gk_corr_build_graph", n, e, attr, slots, err);
    if (st != GK_OK) return st;
    const float *a = g->edge_dim > 0 && e > 0 ? attr : NULL;
    for (int k = 0; k < g->num_views; k++) {
        gk_graph_view *v = &g->views[k];
        copy_rows(v, g->edge_dim, n, row_end, src, a);
        finish_view(g, v, n, 0);  /* complete (k = n - 1): found by its check */
    }
    g->num_nodes = n;
    g->num_edges = e;
    gk_ok(err);
    return GK_OK;
}

/* ---- a declared complete graph ------------------------------------------- */

/* Rows of a view of the complete graph: identical for every call with the
 * same n (and, in a view that keeps input loops, the same self_loops). */
static size_t complete_key(const gk_graph_view *v, size_t n, int self_loops) {
    return n * 2 + (!v->add_self_loops && self_loops);
}

static void write_complete_rows(gk_graph_view *v, size_t n, int self_loops) {
    int32_t pos = 0;
    v->row_ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int keep_own = !v->add_self_loops && self_loops;
        for (size_t j = 0; j < n; j++)
            if (j != i || keep_own) v->src[pos++] = (int32_t)j;
        if (v->add_self_loops) v->src[pos++] = (int32_t)i;
        v->row_ptr[i + 1] = pos;
    }
}

/* Edge features of row i: the input row (n or n - 1 entries, target-major),
 * without i's own entry when the view replaces loops, then the loop's fill. */
static void copy_complete_attr(gk_graph_view *v, int d, size_t n, int self_loops,
                               const float *attr) {
    size_t in_row = self_loops ? n : n - 1, dz = (size_t)d;
    for (size_t i = 0; i < n; i++) {
        const float *in = attr + i * in_row * dz;
        float *out = v->attr + (size_t)v->row_ptr[i] * dz;
        if (v->add_self_loops && self_loops) {  /* skip input entry i */
            memcpy(out, in, i * dz * sizeof *in);
            memcpy(out + i * dz, in + (i + 1) * dz, (n - 1 - i) * dz * sizeof *in);
        } else if (in_row > 0) {
            memcpy(out, in, in_row * dz * sizeof *in);
        }
        if (v->add_self_loops)
            fill_loop_attr(v, d, out, n - 1, out + (n - 1) * dz);
    }
}

/* The same, from features listed source by source (edge (j, i) at row j,
 * the place of i in it): the input's columns become the view's rows, 16
 * at a time, so that each source's features for the 16 targets are one
 * contiguous read and each target row is written in order (a column at a
 * time read one cache line per feature). */
static void copy_complete_attr_by_source(gk_graph_view *v, int d, size_t n, int self_loops,
                                         const float *attr) {
    enum { TILE = 16 };
    const size_t in_row = self_loops ? n : n - 1, dz = (size_t)d;
    const size_t skip_own = v->add_self_loops || !self_loops;  /* rows without (i, i) */
    for (size_t i0 = 0; i0 < n; i0 += TILE) {
        const size_t i1 = i0 + TILE < n ? i0 + TILE : n;
        float *row[TILE];
        for (size_t i = i0; i < i1; i++) row[i - i0] = v->attr + (size_t)v->row_ptr[i] * dz;
        for (size_t j = 0; j < n; j++) {
            const float *in = attr + j * in_row * dz;
            for (size_t i = i0; i < i1; i++) {
                if (i == j && skip_own) continue;  /* not in the input, or dropped */
                const size_t at_in = self_loops ? i : i - (i > j);  /* i's place in row j */
                const size_t at_out = j - (skip_own & (j > i));     /* j's place in row i */
                if (dz == 1) row[i - i0][at_out] = in[at_in];
                else memcpy(row[i - i0] + at_out * dz, in + at_in * dz, dz * sizeof *in);
            }
        }
    }
    if (v->add_self_loops)
        for (size_t i = 0; i < n; i++) {
            float *out = v->attr + (size_t)v->row_ptr[i] * dz;
            fill_loop_attr(v, d, out, n - 1, out + (n - 1) * dz);
        }
}

gk_status gk_graph_set_complete(gk_graph *g, size_t n, int self_loops,
                                const float *edge_attr, gk_error *err) {
    if (g && n > g->max_nodes) {  /* before n * n can overflow */
        g->num_nodes = g->num_edges = 0;
        return gk_fail(err, GK_ELIMIT, "%zu nodes exceed the graph's capacity of %zu",
                       n, g->max_nodes);
    }
    size_t e = n ? (self_loops ? n * n : n * (n - 1)) : 0;
    gk_status st = check_sizes(g, "gk_graph_set_complete", n, e, edge_attr, e, err);
    if (st != GK_OK) return st;
    fill_complete(g, n, self_loops, 0, edge_attr);
    gk_ok(err);
    return GK_OK;
}

/* The checked complete graph of n nodes (self_loops: the input lists each
 * node's own loop) into every view: gk_graph_set_complete, and
 * gk_graph_set_coo given the canonical COO of one. */
static void fill_complete(gk_graph *g, size_t n, int self_loops, int source_major,
                          const float *edge_attr) {
    size_t e = n ? (self_loops ? n * n : n * (n - 1)) : 0;
    for (int k = 0; k < g->num_views; k++) {
        gk_graph_view *v = &g->views[k];
        size_t key = complete_key(v, n, self_loops);
        if (v->complete_key != key) {
            write_complete_rows(v, n, self_loops);
            v->num_edges = (size_t)v->row_ptr[n];
            v->max_in_degree = (size_t)(v->row_ptr[1] - v->row_ptr[0]);
            v->is_complete = v->complete_canonical = v->add_self_loops || self_loops;
            v->complete_key = key;
        }
        if (g->edge_dim > 0 && e > 0 && source_major)
            copy_complete_attr_by_source(v, g->edge_dim, n, self_loops, edge_attr);
        else if (g->edge_dim > 0 && e > 0)
            copy_complete_attr(v, g->edge_dim, n, self_loops, edge_attr);
        else if (g->edge_dim > 0 && v->add_self_loops)  /* n = 1: the loop alone */
            fill_loop_attr(v, g->edge_dim, v->attr, 0, v->attr);
    }
    g->num_nodes = n;
    g->num_edges = e;
}
