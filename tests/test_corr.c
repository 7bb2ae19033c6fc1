/* Correlation builder: streamed correlations against an independent float64
 * two-pass recompute over 100k ticks (with and without the periodic BLAS
 * recompute), halted / constant series, the graph rules against a
 * brute-force implementation of the same rules, and the fused pass on 1, 2
 * and 3 threads (bitwise the same graph, in the brute force's row order). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "graphkern.h"

enum { N = 24, T = 64, TICKS = 100000, CHECK_EVERY = 997 };

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double uniform(void) {  /* splitmix64 -> [0, 1) */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}
static double gaussian(void) {
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* Three sectors with a market factor; asset 3 halts (NaN) for a while and
 * asset 5 trades flat (constant return) for a while. */
static void make_tick(long tick, float *r) {
    double market = gaussian() * 0.01, sector[3];
    for (int s = 0; s < 3; s++) sector[s] = gaussian() * 0.008;
    for (int i = 0; i < N; i++)
        r[i] = (float)(0.0003 + 0.8 * market + sector[i % 3] + 0.006 * gaussian());
    if (tick >= 40000 && tick < 40010) r[3] = NAN;
    if (tick == 60000) r[7] = -INFINITY;
    if (tick >= 70000 && tick < 70300) r[5] = 0.001f;
}

/* Reference: two-pass centred float64 over the kept history; NAN marks an
 * invalid series (any non-finite value or zero variance). */
static void reference_rho(const float *hist, long count, double *rho) {
    long rows = count < T ? count : T;
    double mean[N], sd[N];
    int ok[N];
    for (int i = 0; i < N; i++) {
        double s = 0, ss = 0;
        ok[i] = rows >= 2;
        for (long r = 0; r < rows; r++) {
            float v = hist[((count - 1 - r) % T) * N + i];
            if (!isfinite(v)) ok[i] = 0;
            s += v;
        }
        mean[i] = s / (double)rows;
        for (long r = 0; r < rows; r++) {
            double d = hist[((count - 1 - r) % T) * N + i] - mean[i];
            ss += d * d;
        }
        sd[i] = sqrt(ss);
        if (!(sd[i] > 1e-9)) ok[i] = 0;
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            if (!ok[i] || !ok[j]) {
                rho[i * N + j] = NAN;
                continue;
            }
            double c = 0;
            for (long r = 0; r < rows; r++) {
                long k = (count - 1 - r) % T;
                c += (hist[k * N + i] - mean[i]) * (hist[k * N + j] - mean[j]);
            }
            rho[i * N + j] = c / (sd[i] * sd[j]);
        }
}

/* Max |streamed - reference| over valid pairs; validity must agree and an
 * invalid asset's row must be all zeros. Returns -1 on a validity error. */
static double compare(gk_corr *c, const float *hist, long count) {
    static float rho[N * N];
    static double ref[N * N];
    gk_corr_matrix(c, rho);
    reference_rho(hist, count, ref);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        int ref_ok = !isnan(ref[i * N + i]);
        if (ref_ok != gk_corr_valid(c, (size_t)i)) {
            printf("  tick %ld: asset %d valid=%d, reference says %d\n", count, i,
                   gk_corr_valid(c, (size_t)i), ref_ok);
            return -1;
        }
        for (int j = 0; j < N; j++) {
            float v = rho[i * N + j];
            if (isnan(v)) return -1;
            if (isnan(ref[i * N + j])) {
                if (v != 0.0f) return -1;
                continue;
            }
            double d = fabs((double)v - ref[i * N + j]);
            worst = d > worst ? d : worst;
        }
    }
    return worst;
}

static int check_streaming(int recompute_every) {
    gk_corr_options opt = gk_corr_default_options();
    opt.recompute_every = recompute_every;
    gk_corr *c = NULL;
    gk_error err;
    if (gk_corr_create(N, T, &opt, &c, &err) != GK_OK) {
        printf("FAIL create: %s\n", err.message);
        return 1;
    }
    static float hist[T * N];
    float r[N];
    double worst = 0;
    int failures = 0, saw_halt = 0, saw_flat = 0;
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (long tick = 0; tick < TICKS && !failures; tick++) {
        make_tick(tick, r);
        memcpy(hist + (tick % T) * N, r, sizeof r);
        gk_corr_push(c, r, NULL);
        long count = tick + 1;
        int probe = tick == 40005 || tick == 40000 + T + 8 || tick == 70200 ||
                    tick == 60000 + T - 1 || tick == 60000 + T;
        if (count % CHECK_EVERY == 0 || count < 4 || probe || tick == TICKS - 1) {
            double d = compare(c, hist, count);
            if (d < 0 || d > 1e-5) {
                printf("FAIL K=%d tick %ld: max |rho - rho_f64| = %g\n", recompute_every,
                       tick, d);
                failures++;
            }
            worst = d > worst ? d : worst;
        }
        if (tick == 40005) saw_halt = !gk_corr_valid(c, 3);
        if (tick == 70200) saw_flat = !gk_corr_valid(c, 5);
    }
    if (!saw_halt || !saw_flat || !gk_corr_valid(c, 3) || !gk_corr_valid(c, 5)) {
        printf("FAIL K=%d: halted/flat assets not invalidated and restored (%d %d)\n",
               recompute_every, saw_halt, saw_flat);
        failures++;
    }
    printf("%s streamed vs float64 recompute, %d ticks, N=%d T=%d, recompute every "
           "%d: max |diff| %.3g\n", failures ? "FAIL" : "ok  ", TICKS, N, T,
           recompute_every, worst);
    gk_corr_free(c);
    return failures;
}

/* ---- graph rules ----------------------------------------------------------- */

typedef struct pair { int32_t src, dst; } pair;

static int cmp_pair(const void *a, const void *b) {
    const pair *x = a, *y = b;
    return x->dst != y->dst ? (x->dst > y->dst) - (x->dst < y->dst)
                            : (x->src > y->src) - (x->src < y->src);
}

static const float *rank_row;
static int cmp_rank(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    float ax = fabsf(rank_row[x]), ay = fabsf(rank_row[y]);
    if (ax != ay) return ax < ay ? 1 : -1;
    return (x > y) - (x < y);
}

/* The rule, written the obvious way: sort every candidate of every row.
 * n <= NMAX. */
enum { NMAX = 256 };
static size_t brute_force(const float *rho, int n, const int *valid,
                          const gk_corr_rule *rule, pair *out) {
    static int32_t cand[NMAX];
    static unsigned char keep[NMAX][NMAX];
    memset(keep, 0, sizeof keep);
    for (int i = 0; i < n; i++) {
        int m = 0;
        for (int j = 0; j < n; j++)
            if (j != i && valid[i] && valid[j] && fabsf(rho[i * n + j]) >= rule->threshold)
                cand[m++] = j;
        rank_row = rho + i * n;
        qsort(cand, (size_t)m, sizeof *cand, cmp_rank);
        int take = rule->top_k && rule->top_k < m ? rule->top_k : m;
        for (int k = 0; k < take; k++) {
            keep[i][cand[k]] = 1;
            if (rule->symmetric && rule->top_k) keep[cand[k]][i] = 1;
        }
    }
    size_t e = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (keep[i][j]) out[e++] = (pair){j, i};
    return e;
}

/* Every view of g equals the one gk_graph_set_coo makes of the same edges
 * (src, dst, attr: the non-loop edges in g's CSR order): the row pointers,
 * sources and features, the model's self loops and their filled features
 * included, bit for bit. The top-k rules build g from the picks' rows
 * directly (gk_graph_set_rows), without a COO. */
static int same_as_coo(const gk_graph *g, gk_graph *ref, size_t n, const int64_t *src,
                       const int64_t *dst, const float *attr, size_t e) {
    static int64_t coo[2 * N * N];
    memcpy(coo, src, e * sizeof *src);
    memcpy(coo + e, dst, e * sizeof *dst);
    gk_error err;
    if (gk_graph_set_coo(ref, n, e, coo, GK_INDEX_I64, attr, &err) != GK_OK) {
        printf("FAIL set_coo of the same edges: %s\n", err.message);
        return 0;
    }
    for (int k = 0; k < g->num_views; k++) {
        const gk_graph_view *a = &g->views[k], *b = &ref->views[k];
        size_t m = (size_t)b->row_ptr[n];
        if (a->num_edges != b->num_edges || a->is_complete != b->is_complete ||
            a->max_in_degree != b->max_in_degree ||
            memcmp(a->row_ptr, b->row_ptr, (n + 1) * sizeof *a->row_ptr) ||
            memcmp(a->src, b->src, m * sizeof *a->src) ||
            (g->edge_dim && memcmp(a->attr, b->attr, m * (size_t)g->edge_dim * sizeof *a->attr))) {
            printf("FAIL view %d differs from set_coo's of the same edges\n", k);
            return 0;
        }
    }
    return 1;
}

static int check_rules(const char *fixtures) {
    char path[1024];
    snprintf(path, sizeof path, "%s/ref_topk16_n1000_edge1.model.safetensors", fixtures);
    gk_model *model = NULL;
    gk_graph *graph = NULL, *coo_graph = NULL;
    gk_corr *c = NULL;
    gk_error err;
    if (gk_model_load_file(path, &model, &err) != GK_OK ||
        gk_graph_create(model, N, N * (N - 1), &graph, &err) != GK_OK ||
        gk_graph_create(model, N, N * (N - 1), &coo_graph, &err) != GK_OK ||
        gk_corr_create(N, T, NULL, &c, &err) != GK_OK) {
        printf("FAIL setup: %s\n", err.message);
        return 1;
    }
    static const gk_corr_rule rules[] = {
        {0.0f, 0, 0}, {0.5f, 0, 0}, {0.0f, 4, 0}, {0.0f, 4, 1}, {0.6f, 3, 0},
        {0.6f, 3, 1}, {0.99f, 2, 1}, {0.0f, 100, 0}};
    static pair want[N * N], got[N * N + N];
    static int64_t src[N * N + N], dst[N * N + N], coo_src[N * N], coo_dst[N * N];
    static float rho[N * N], coo_attr[N * N];
    float r[N];
    int valid[N], failures = 0;
    rng_state = 12345;
    for (long tick = 0; tick < 3 * T; tick++) {
        make_tick(tick, r);
        if (tick > T + 10) r[9] = NAN;   /* a halted asset: no edges */
        gk_corr_push(c, r, NULL);
    }
    const gk_graph_view *view = &graph->views[graph->layer_view[0]];
    /* Several rounds: each build is seeded with the previous one's picks. */
    for (int round = 0; round < 3; round++) {
        for (int t = 0; round > 0 && t < 7; t++) {
            make_tick(3 * T + round * 7 + t, r);
            r[9] = NAN;
            gk_corr_push(c, r, NULL);
        }
        gk_corr_matrix(c, rho);
        for (int i = 0; i < N; i++) valid[i] = gk_corr_valid(c, (size_t)i);
        for (size_t k = 0; k < sizeof rules / sizeof *rules; k++) {
            size_t e = 0;
            if (gk_corr_build_graph(c, &rules[k], graph, &e, &err) != GK_OK) {
                printf("FAIL rule %zu: %s\n", k, err.message);
                failures++;
                continue;
            }
            size_t m = gk_graph_layer_edges(graph, 0, src, dst, N * N + N), kept = 0;
            int attr_ok = 1;
            for (size_t q = 0; q < m; q++) {
                if (src[q] == dst[q]) continue;  /* the model's own self loops */
                coo_src[kept] = src[q];
                coo_dst[kept] = dst[q];
                coo_attr[kept] = view->attr[q];
                got[kept++] = (pair){(int32_t)src[q], (int32_t)dst[q]};
                float a = view->attr[q], want_a = rho[dst[q] * N + src[q]];
                attr_ok &= a == want_a && !isnan(a);
            }
            int views_ok = same_as_coo(graph, coo_graph, N, coo_src, coo_dst, coo_attr, kept);
            size_t w = brute_force(rho, N, valid, &rules[k], want);
            qsort(got, kept, sizeof *got, cmp_pair);
            int same = kept == w && e == w && !memcmp(got, want, w * sizeof *want);
            int halted_alone = 1;
            for (size_t q = 0; q < kept; q++) halted_alone &= got[q].src != 9 && got[q].dst != 9;
            int ok = same && attr_ok && halted_alone && views_ok;
            if (ok && round < 2) continue;  /* print the last round, and failures */
            printf("%s rule threshold=%.2f top_k=%d symmetric=%d: %zu edges (brute force %zu)%s%s\n",
                   ok ? "ok  " : "FAIL", (double)rules[k].threshold, rules[k].top_k,
                   rules[k].symmetric, kept, w, attr_ok ? "" : ", edge_attr != rho",
                   halted_alone ? "" : ", halted asset has edges");
            failures += !ok;
        }
    }
    gk_corr_free(c);
    gk_graph_free(coo_graph);
    gk_graph_free(graph);
    gk_model_free(model);
    return failures;
}

/* ---- a model without self loops ------------------------------------------- */

/* A view that does not add self loops closes gk_graph_set_rows' free slot
 * after each row (a view with loops fills it): the graph must equal the
 * brute-force rule's and set_coo's of the same edges. No edge features. */
static int check_view_without_loops(const char *fixtures) {
    char path[1024];
    snprintf(path, sizeof path, "%s/noselfloops_n10.model.safetensors", fixtures);
    gk_model *model = NULL;
    gk_graph *graph = NULL, *coo_graph = NULL;
    gk_corr *c = NULL;
    gk_error err;
    if (gk_model_load_file(path, &model, &err) != GK_OK ||
        gk_graph_create(model, N, N * (N - 1), &graph, &err) != GK_OK ||
        gk_graph_create(model, N, N * (N - 1), &coo_graph, &err) != GK_OK ||
        gk_corr_create(N, T, NULL, &c, &err) != GK_OK) {
        printf("FAIL no-loop setup: %s\n", err.message);
        return 1;
    }
    float r[N];
    rng_state = 777;
    for (long tick = 0; tick < 2 * T; tick++) {
        make_tick(tick, r);
        gk_corr_push(c, r, NULL);
    }
    static const gk_corr_rule rules[] = {{0.0f, 4, 1}, {0.6f, 3, 0}};
    static float rho[N * N];
    static pair want[N * N], got[N * N];
    static int64_t src[N * N], dst[N * N];
    int valid[N], failures = 0;
    gk_corr_matrix(c, rho);
    for (int i = 0; i < N; i++) valid[i] = gk_corr_valid(c, (size_t)i);
    for (size_t k = 0; k < sizeof rules / sizeof *rules; k++) {
        size_t e = 0;
        if (gk_corr_build_graph(c, &rules[k], graph, &e, &err) != GK_OK) {
            printf("FAIL no-loop rule %zu: %s\n", k, err.message);
            failures++;
            continue;
        }
        size_t m = gk_graph_layer_edges(graph, 0, src, dst, N * N);
        int loops = 0;
        for (size_t q = 0; q < m; q++) {
            loops |= src[q] == dst[q];
            got[q] = (pair){(int32_t)src[q], (int32_t)dst[q]};
        }
        int views_ok = same_as_coo(graph, coo_graph, N, src, dst, NULL, m);
        size_t w = brute_force(rho, N, valid, &rules[k], want);
        qsort(got, m, sizeof *got, cmp_pair);
        int ok = !loops && views_ok && m == w && e == w && !memcmp(got, want, w * sizeof *want);
        printf("%s no self loops, rule top_k=%d symmetric=%d: %zu edges (brute force %zu)%s\n",
               ok ? "ok  " : "FAIL", rules[k].top_k, rules[k].symmetric, m, w,
               loops ? ", has self loops" : "");
        failures += !ok;
    }
    gk_corr_free(c);
    gk_graph_free(coo_graph);
    gk_graph_free(graph);
    gk_model_free(model);
    return failures;
}

/* ---- a tie at the k-th pick ----------------------------------------------- */

/* Five assets of sines over one window (distinct frequencies: uncorrelated
 * parts), assets 2 and 3 exact copies, so every row ranks them at the same
 * |rho|. Top-2: row 0 picks 1 (0.853) and 2 (0.369; the tie with 3 goes to
 * the lower index); row 3 picks 2 (1.0) and then 0 at exactly row 0's
 * second |rho|. The symmetric graph must give row 0 the edge from 3, which
 * row 0 did not pick: a pick that equals the k-th |rho| of its target
 * decides nothing by value. */
static int check_tie_at_kth(const char *fixtures) {
    enum { TIE_N = 5, TIE_T = 64 };
    char path[1024];
    snprintf(path, sizeof path, "%s/ref_topk16_n1000_edge1.model.safetensors", fixtures);
    gk_model *model = NULL;
    gk_graph *graph = NULL;
    gk_corr *c = NULL;
    gk_error err;
    if (gk_model_load_file(path, &model, &err) != GK_OK ||
        gk_graph_create(model, TIE_N, TIE_N * (TIE_N - 1), &graph, &err) != GK_OK ||
        gk_corr_create(TIE_N, TIE_T, NULL, &c, &err) != GK_OK) {
        printf("FAIL tie setup: %s\n", err.message);
        return 1;
    }
    for (int t = 0; t < TIE_T; t++) {
        double wave[6];
        for (int f = 1; f <= 5; f++) wave[f] = sin(6.283185307179586 * f * t / TIE_T);
        float r[TIE_N] = {(float)(wave[1] + 0.1 * wave[2]), (float)(wave[1] + 0.6 * wave[3]),
                          (float)(0.4 * wave[1] + wave[4]), 0.0f, (float)wave[5]};
        r[3] = r[2];
        gk_corr_push(c, r, NULL);
    }
    static const gk_corr_rule rule = {0.0f, 2, 1};
    static float rho[TIE_N * TIE_N];
    static pair want[TIE_N * TIE_N], got[TIE_N * TIE_N];
    static int64_t src[TIE_N * TIE_N + TIE_N], dst[TIE_N * TIE_N + TIE_N];
    int valid[TIE_N], failures = 0;
    size_t e = 0;
    gk_corr_matrix(c, rho);
    for (int i = 0; i < TIE_N; i++) valid[i] = gk_corr_valid(c, (size_t)i);
    if (gk_corr_build_graph(c, &rule, graph, &e, &err) != GK_OK) {
        printf("FAIL tie build: %s\n", err.message);
        failures++;
    } else {
        size_t m = gk_graph_layer_edges(graph, 0, src, dst, TIE_N * TIE_N + TIE_N), kept = 0;
        for (size_t q = 0; q < m; q++)
            if (src[q] != dst[q]) got[kept++] = (pair){(int32_t)src[q], (int32_t)dst[q]};
        size_t w = brute_force(rho, TIE_N, valid, &rule, want);
        qsort(got, kept, sizeof *got, cmp_pair);
        int has_3_to_0 = 0;
        for (size_t q = 0; q < kept; q++) has_3_to_0 |= got[q].src == 3 && got[q].dst == 0;
        int tie = rho[0 * TIE_N + 2] == rho[0 * TIE_N + 3];
        int ok = tie && has_3_to_0 && kept == w && e == w && !memcmp(got, want, w * sizeof *want);
        printf("%s tie at the k-th pick (top-2 symmetric, N=5): %zu edges (brute force %zu)%s%s\n",
               ok ? "ok  " : "FAIL", kept, w, tie ? "" : ", no exact tie",
               has_3_to_0 ? "" : ", edge 3 -> 0 missing");
        failures += !ok;
    }
    gk_corr_free(c);
    gk_graph_free(graph);
    gk_model_free(model);
    return failures;
}

/* ---- the fused pass on several threads ------------------------------------ */

enum { TN = 200, TT = 64, TCOUNTS = 3 };

/* TN assets in 8 sectors whose loadings switch at tick 300 (a regime change:
 * last build's cuts are then far off, rows fall back); asset 17 halts. */
static void make_wide_tick(long tick, float *r) {
    double market = gaussian() * 0.01, sector[8];
    for (int s = 0; s < 8; s++) sector[s] = gaussian() * 0.008;
    for (int i = 0; i < TN; i++) {
        int s = tick < 300 ? i % 8 : (i / 25) % 8;
        r[i] = (float)(0.0002 + (0.3 + 0.1 * (i % 5)) * market + sector[s] +
                       0.004 * (1 + i % 3) * gaussian());
    }
    if (tick >= 250 && tick < 260) r[17] = NAN;
}

/* Row i of the view without the model's self loop, in CSR order. */
static size_t view_row(const gk_graph_view *v, int i, const int32_t **src, const float **attr) {
    size_t a = (size_t)v->row_ptr[i], b = (size_t)v->row_ptr[i + 1];
    *src = v->src + a;
    *attr = v->attr + a;
    return b - a - (v->add_self_loops ? 1 : 0);
}

/* The graph must be the brute-force rule's, with rho's bits as edge
 * features, each row in the order "own picks ascending, then the rows that
 * picked it (symmetric) ascending" (what a stable sort by target of the
 * picks followed by their reverses gives, the order before the fused pass). */
static int check_against_rule(const gk_graph *graph, const float *rho, const int *valid,
                              const gk_corr_rule *rule) {
    static pair want[TN * TN];
    static unsigned char picked[TN][TN];
    gk_corr_rule one_way = *rule;
    one_way.symmetric = 0;
    size_t w = brute_force(rho, TN, valid, &one_way, want);
    memset(picked, 0, sizeof picked);
    for (size_t q = 0; q < w; q++) picked[want[q].dst][want[q].src] = 1;
    const gk_graph_view *v = &graph->views[graph->layer_view[0]];
    for (int i = 0; i < TN; i++) {
        int32_t order[TN];
        int m = 0;
        for (int j = 0; j < TN; j++)
            if (picked[i][j]) order[m++] = j;
        for (int j = 0; j < TN && rule->symmetric && rule->top_k; j++)
            if (picked[j][i] && !picked[i][j]) order[m++] = j;
        const int32_t *src;
        const float *attr;
        size_t len = view_row(v, i, &src, &attr);
        if (len != (size_t)m) return 0;
        for (int q = 0; q < m; q++)
            if (src[q] != order[q] || attr[q] != rho[i * TN + order[q]]) return 0;
    }
    return 1;
}

static int check_threads(const char *fixtures) {
    char path[1024];
    snprintf(path, sizeof path, "%s/ref_topk16_n1000_edge1.model.safetensors", fixtures);
    static const int thread_counts[TCOUNTS] = {1, 2, 3};
    gk_model *model = NULL;
    gk_plan *plan[TCOUNTS] = {0};
    gk_graph *graph[TCOUNTS] = {0};
    gk_corr *c[TCOUNTS] = {0};
    /* pushed the same returns, never builds a graph: its pushes apply the
     * update the builds above fold into their fused pass */
    gk_corr *plain = NULL;
    gk_error err;
    int failures = 0;
    gk_corr_options plain_options = gk_corr_default_options();
    plain_options.recompute_every = 100;
    if (gk_corr_create(TN, TT, &plain_options, &plain, &err) != GK_OK) {
        printf("FAIL setup: %s\n", err.message);
        return 1;
    }
    if (gk_model_load_file(path, &model, &err) != GK_OK) {
        printf("FAIL setup: %s\n", err.message);
        return 1;
    }
    for (int t = 0; t < TCOUNTS; t++) {
        gk_plan_options po = gk_plan_default_options();
        po.threads = thread_counts[t];
        gk_corr_options co = gk_corr_default_options();
        co.recompute_every = 100;
        if (gk_plan_create(model, TN, TN * (TN - 1), &po, &plan[t], &err) != GK_OK ||
            gk_graph_create(model, TN, TN * (TN - 1), &graph[t], &err) != GK_OK ||
            (co.threads_of = plan[t],
             gk_corr_create(TN, TT, &co, &c[t], &err)) != GK_OK) {
            printf("FAIL setup (%d threads): %s\n", thread_counts[t], err.message);
            failures++;
            goto done;
        }
    }
    static const gk_corr_rule rules[] = {
        {0.0f, 16, 1}, {0.0f, 16, 0}, {0.3f, 8, 1}, {0.45f, 40, 1}, {0.0f, 64, 1},
        {0.0f, 100, 1}, {0.4f, 0, 0}};
    enum { RULES = sizeof rules / sizeof *rules };
    static float rho[TN * TN];
    float r[TN];
    int valid[TN];
    size_t checked = 0;
    rng_state = 777;
    for (long tick = 0; tick < 420 && !failures; tick++) {
        make_wide_tick(tick, r);
        for (int t = 0; t < TCOUNTS; t++) gk_corr_push(c[t], r, NULL);
        gk_corr_push(plain, r, NULL);
        /* every tick with the top-16 rule (seeded cuts), all rules now and then */
        int all = tick % 37 == 0 || tick == 301 || tick == 255;
        for (size_t k = 0; k < (all ? RULES : 1) && !failures; k++) {
            size_t e[TCOUNTS];
            for (int t = 0; t < TCOUNTS; t++)
                if (gk_corr_build_graph(c[t], &rules[k], graph[t], &e[t], &err) != GK_OK) {
                    printf("FAIL rule %zu: %s\n", k, err.message);
                    failures++;
                }
            if (failures) break;
            const gk_graph_view *v0 = &graph[0]->views[graph[0]->layer_view[0]];
            for (int t = 1; t < TCOUNTS; t++) {
                const gk_graph_view *v = &graph[t]->views[graph[t]->layer_view[0]];
                size_t edges = v0->num_edges;
                int same = e[t] == e[0] && v->num_edges == edges &&
                           !memcmp(v->row_ptr, v0->row_ptr, (TN + 1) * sizeof *v->row_ptr) &&
                           !memcmp(v->src, v0->src, edges * sizeof *v->src) &&
                           !memcmp(v->attr, v0->attr, edges * sizeof *v->attr);
                if (!same) {
                    printf("FAIL tick %ld rule %zu: %d threads build another graph than 1\n",
                           tick, k, thread_counts[t]);
                    failures++;
                }
            }
            if (!all && tick % 5) continue;  /* the brute force on every 5th */
            gk_corr_matrix(c[0], rho);
            static float plain_rho[TN * TN];
            gk_corr_matrix(plain, plain_rho);
            if (memcmp(rho, plain_rho, sizeof rho)) {
                printf("FAIL tick %ld: rho after graph builds differs from rho after "
                       "pushes alone\n", tick);
                failures++;
            }
            for (int i = 0; i < TN; i++) valid[i] = gk_corr_valid(c[0], (size_t)i);
            if (!check_against_rule(graph[0], rho, valid, &rules[k])) {
                printf("FAIL tick %ld rule threshold=%.2f top_k=%d symmetric=%d: not the "
                       "brute-force graph (edges, rho bits, row order)\n", tick,
                       (double)rules[k].threshold, rules[k].top_k, rules[k].symmetric);
                failures++;
            }
            checked++;
        }
    }
    printf("%s fused rho + top-k on 1, 2, 3 threads, N=%d T=%d, 420 ticks (regime change, "
           "halt): bitwise the same graph; %zu builds checked against brute force\n",
           failures ? "FAIL" : "ok  ", TN, TT, checked);
done:
    gk_corr_free(plain);
    for (int t = 0; t < TCOUNTS; t++) {
        gk_corr_free(c[t]);
        gk_graph_free(graph[t]);
        gk_plan_free(plan[t]);
    }
    gk_model_free(model);
    return failures;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures";
    int failures = 0;
    failures += check_streaming(1024);
    failures += check_streaming(0);
    failures += check_rules(dir);
    failures += check_tie_at_kth(dir);
    failures += check_view_without_loops(dir);
    failures += check_threads(dir);
    printf(failures ? "FAILED\n" : "all correlation checks passed\n");
    return failures ? 1 : 0;
}
