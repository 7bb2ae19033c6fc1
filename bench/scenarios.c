/* The bench scenarios and their inputs.
 *
 * Every graph comes from synthetic asset returns, as the trading use builds
 * them (docs/correlation.md): T returns per asset from a market factor, a sector
 * factor and noise (fixed-seed xoshiro256**), standardized. Then
 *   dense: every ordered pair (j, i), j != i: N·(N−1) edges (PyG adds the
 *          N self loops), edge_attr = Pearson correlation ρ_ij;
 *   topk:  for each target i, the k sources j != i with the largest |ρ_ij|,
 *          edge_attr = ρ_ij.
 * x is each asset's last F standardized returns. Each of the BENCH_VARIANTS
 * inputs has its own seed, so rotating through them shows the caches more
 * than one graph. The BENCH_TICK scenarios build their own inputs, tick by
 * tick (src/cli/tick.c); bench_build_inputs does not apply to them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum { RETURNS_T = 64, SECTORS = 8 };

const bench_scenario bench_scenarios[] = {
    {"dense100", BENCH_DENSE, 100, 0, 0, 10000, 200},
    {"dense100_edge1", BENCH_DENSE, 100, 0, 1, 10000, 200},
    {"topk10_n100", BENCH_TOPK, 100, 10, 0, 10000, 200},
    {"topk10_n100_edge1", BENCH_TOPK, 100, 10, 1, 10000, 200},
    {"dense500", BENCH_DENSE, 500, 0, 0, 10000, 40},
    {"dense500_edge1", BENCH_DENSE, 500, 0, 1, 10000, 40},
    {"dense1000", BENCH_DENSE, 1000, 0, 0, 1000, 10},
    {"dense1000_edge1", BENCH_DENSE, 1000, 0, 1, 1000, 10},
    {"topk16_n1000", BENCH_TOPK, 1000, 16, 0, 10000, 100},
    {"topk16_n1000_edge1", BENCH_TOPK, 1000, 16, 1, 10000, 100},
    /* src/cli/tick.h: built-in market, window 256, top-16 symmetric, the
     * bundled model (edge_dim 1); timed for a duration, not a run count. */
    {"tick_n100", BENCH_TICK, 100, 16, 1, 0, 0},
    {"tick_n1000", BENCH_TICK, 1000, 16, 1, 0, 0},
};
const int bench_num_scenarios = (int)(sizeof bench_scenarios / sizeof *bench_scenarios);

const bench_scenario *bench_find_scenario(const char *name) {
    for (int k = 0; k < bench_num_scenarios; k++)
        if (!strcmp(bench_scenarios[k].name, name)) return &bench_scenarios[k];
    return NULL;
}

/* ---- xoshiro256** seeded by splitmix64 ---------------------------------- */

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed) {
    for (int k = 0; k < 4; k++) r->s[k] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r) {
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

static double rng_uniform(rng *r) {  /* (0, 1) */
    return ((double)(rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double rng_normal(rng *r) {   /* Box-Muller, one value per call */
    return sqrt(-2.0 * log(rng_uniform(r))) * cos(6.283185307179586 * rng_uniform(r));
}

/* ---- returns and correlations ------------------------------------------ */

/* z[i][t]: standardized returns (zero mean, unit norm over t). */
static void make_returns(rng *r, int n, double *z) {
    double market[RETURNS_T], sector[SECTORS][RETURNS_T];
    for (int t = 0; t < RETURNS_T; t++) market[t] = rng_normal(r);
    for (int s = 0; s < SECTORS; s++)
        for (int t = 0; t < RETURNS_T; t++) sector[s][t] = rng_normal(r);
    for (int i = 0; i < n; i++) {
        int s = (int)(rng_next(r) % SECTORS);
        double bm = 0.2 + 0.6 * rng_uniform(r), bs = 0.3 + 0.9 * rng_uniform(r);
        double *zi = z + (size_t)i * RETURNS_T, mean = 0, norm = 0;
        for (int t = 0; t < RETURNS_T; t++) {
            zi[t] = bm * market[t] + bs * sector[s][t] + rng_normal(r);
            mean += zi[t];
        }
        mean /= RETURNS_T;
        for (int t = 0; t < RETURNS_T; t++) {
            zi[t] -= mean;
            norm += zi[t] * zi[t];
        }
        norm = 1.0 / sqrt(norm);
        for (int t = 0; t < RETURNS_T; t++) zi[t] *= norm;
    }
}

static float correlation(const double *z, int i, int j) {
    const double *a = z + (size_t)i * RETURNS_T, *b = z + (size_t)j * RETURNS_T;
    double s = 0;
    for (int t = 0; t < RETURNS_T; t++) s += a[t] * b[t];
    return (float)s;
}

/* x[i][f] = the last F standardized returns of asset i, scaled to unit
 * variance. */
static void make_features(const double *z, int n, int f, float *x) {
    int first = RETURNS_T > f ? RETURNS_T - f : 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < f; c++)
            x[(size_t)i * f + c] =
                (float)(z[(size_t)i * RETURNS_T + (first + c) % RETURNS_T] *
                        sqrt((double)RETURNS_T));
}

/* ---- edges --------------------------------------------------------------- */

static size_t dense_edges(const double *z, int n, int32_t *src, int32_t *dst,
                          float *attr) {
    size_t e = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            src[e] = j;
            dst[e] = i;
            if (attr) attr[e] = correlation(z, i, j);
            e++;
        }
    return e;
}

/* For each target, the k sources with the largest |ρ| (insertion into a
 * sorted list of k: k is small). */
static size_t topk_edges(const double *z, int n, int k, int32_t *src, int32_t *dst,
                         float *attr) {
    int best[64];
    float rho[64];
    size_t e = 0;
    for (int i = 0; i < n; i++) {
        int have = 0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            float c = correlation(z, i, j);
            if (have == k && fabsf(c) <= fabsf(rho[k - 1])) continue;
            int p = have < k ? have++ : k - 1;
            while (p > 0 && fabsf(rho[p - 1]) < fabsf(c)) {
                best[p] = best[p - 1];
                rho[p] = rho[p - 1];
                p--;
            }
            best[p] = j;
            rho[p] = c;
        }
        for (int q = 0; q < have; q++, e++) {
            src[e] = best[q];
            dst[e] = i;
            if (attr) attr[e] = rho[q];
        }
    }
    return e;
}

/* ---- inputs -------------------------------------------------------------- */

static float *alloc_floats(size_t count) {
    float *p = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
    if (p) memset(p, 0, count * sizeof(float));  /* touched now, not timed */
    return p;
}

static gk_status build_variant(const bench_scenario *s, const gk_model *m, int v,
                               bench_inputs *in, gk_error *err) {
    int n = s->nodes, f = gk_model_in_features(m);
    size_t cap = s->kind == BENCH_DENSE ? (size_t)n * (size_t)(n - 1)
                                        : (size_t)n * (size_t)s->k;
    double *z = malloc((size_t)n * RETURNS_T * sizeof *z);
    int32_t *index = malloc(2 * cap * sizeof *index);
    float *attr = s->edge_dim ? malloc(cap * sizeof *attr) : NULL;
    in->x[v] = alloc_floats((size_t)n * (size_t)f);
    gk_status st = GK_ENOMEM;
    if (z && index && (attr || !s->edge_dim) && in->x[v]) {
        rng r;
        rng_seed(&r, 0x6b8b4567u * (uint64_t)(v + 1) + (uint64_t)n);
        make_returns(&r, n, z);
        make_features(z, n, f, in->x[v]);
        size_t e = s->kind == BENCH_DENSE
                       ? dense_edges(z, n, index, index + cap, attr)
                       : topk_edges(z, n, s->k, index, index + cap, attr);
        /* edge_index is [2, E]: sources, then targets, each E long. */
        if (e < cap) memmove(index + e, index + cap, e * sizeof *index);
        in->edges = e;
        st = gk_graph_from_coo(m, (size_t)n, e, index, GK_INDEX_I32, attr,
                               &in->graph[v], err);
        /* kept for the graph-build rows, as int64 like a torch edge_index */
        in->edge_index[v] = malloc(2 * (e ? e : 1) * sizeof(int64_t));
        if (st == GK_OK && !in->edge_index[v]) st = GK_ENOMEM;
        for (size_t k = 0; st == GK_OK && k < 2 * e; k++) in->edge_index[v][k] = index[k];
        in->edge_attr[v] = attr;
        attr = NULL;
    }
    if (st == GK_ENOMEM && err) {
        err->status = GK_ENOMEM;
        strcpy(err->message, "bench: out of memory building inputs");
    }
    free(z);
    free(index);
    free(attr);
    return st;
}

gk_status bench_build_inputs(const bench_scenario *s, const gk_model *m,
                             bench_inputs *out, gk_error *err) {
    memset(out, 0, sizeof *out);
    out->scenario = s;
    out->nodes = (size_t)s->nodes;
    gk_status st = GK_OK;
    for (int v = 0; v < BENCH_VARIANTS && st == GK_OK; v++) {
        st = build_variant(s, m, v, out, err);
        if (st == GK_OK) out->variants = v + 1;
    }
    out->y = alloc_floats(out->nodes * (size_t)gk_model_out_features(m));
    if (st == GK_OK && !out->y) st = GK_ENOMEM;
    if (st != GK_OK) bench_free_inputs(out);
    return st;
}

void bench_free_inputs(bench_inputs *in) {
    for (int v = 0; v < BENCH_VARIANTS; v++) {
        gk_graph_free(in->graph[v]);
        free(in->x[v]);
        free(in->edge_index[v]);
        free(in->edge_attr[v]);
    }
    free(in->y);
    memset(in, 0, sizeof *in);
}
