/* Every generated CSR aggregation kernel (GATConv factorized and
 * edge-feature, GATv2Conv) on every ISA this CPU runs, against a float64
 * reference and the generic path: random graphs with isolated nodes, single
 * neighbours, duplicate edges, degrees that are no multiple of a vector and
 * rows of more than one 64-edge block; ordinary and large-magnitude logits;
 * every activation; alpha; rows with their own loop last (a view that adds
 * loops); GATv2 with shared and separate weights; GATConv
 * row counts below, at and past the kernels' row block, computed in one
 * range and in pieces (bitwise equal). */
#include "kernel_harness.h"

/* The edge-feature prepare's bound against float64: UB_h = max_j s_src[j, h]
 * + Σ_d max(edge_w[d, h]·min_e attr[e, d], edge_w[d, h]·max_e attr[e, d]),
 * within float rounding (the kernels shift by it: one below a logit could
 * overflow; a scan that skipped edges would not show in the outputs). */
static int check_bound(const kh_kernel *k, const kh_case *c, const gk_layer_run *run) {
    int H = k->heads, D = k->edge_dim, bad = 0;
    size_t ne = c->v.num_edges;
    for (int h = 0; h < H && !bad; h++) {
        double ub = -INFINITY, mag;
        for (size_t j = 0; j < c->n; j++) {
            double s = c->t[j * c->ts + (size_t)c->L.col_src + (size_t)h];
            ub = s > ub ? s : ub;
        }
        mag = fabs(ub);
        for (int d = 0; d < D; d++) {
            double lo = 0, hi = 0;
            for (size_t e = 0; e < ne; e++) {
                double a = c->v.attr[e * (size_t)D + (size_t)d];
                if (e == 0 || a < lo) lo = a;
                if (e == 0 || a > hi) hi = a;
            }
            double w = c->L.edge_w[d * H + h], u = w * lo, v = w * hi;
            ub += u > v ? u : v;
            mag += fabs(u > v ? u : v);
        }
        double got = run->node_scratch[h];
        if (!(fabs(got - ub) <= 1e-6 * (mag + 1e-30))) {
            printf("FAIL %s: prepare's bound for head %d is %.9g, float64 %.9g\n", k->name, h,
                   got, ub);
            bad = 1;
        }
    }
    return bad;
}

static int check(const kh_kernel *k, float scale, gk_activation act, int residual,
                 int with_alpha, int kind) {
    kh_case c;
    kh_layer(&c, 8, k->heads, k->channels, k->edge_dim, k->concat, residual, act,
             0.2f, scale);
    kh_graph(&c, 37, kind);
    kh_buffers(&c);
    double *t64 = calloc(c.n * c.ts, sizeof *t64);
    kh_transform_ref(&c, t64);
    for (size_t q = 0; q < c.n * c.ts; q++) c.t[q] = (float)t64[q];
    size_t ny = c.n * (size_t)c.L.info.out_width, na = c.v.num_edges * (size_t)k->heads;
    double *y = calloc(ny, sizeof *y), *a = calloc(na + 1, sizeof *a);
    kh_aggregate_ref(&c, y, a);
    gk_layer_run run = kh_run(&c, with_alpha);
    if (k->prepare) k->prepare(&run, 0, c.n);
    int bound_bad = k->prepare && k->edge_dim > 0 ? check_bound(k, &c, &run) : 0;
    k->aggregate(&run, 0, c.n);
    double err = kh_err_f(c.y, y, ny), aerr = with_alpha ? kh_err_f(c.alpha, a, na) : 0;
    float *yk = malloc(ny * sizeof *yk);
    memcpy(yk, c.y, ny * sizeof *yk);
    gk_generic_aggregate(&run, 0, c.n);
    double *yg = calloc(ny, sizeof *yg);
    for (size_t q = 0; q < ny; q++) yg[q] = c.y[q];
    double gerr = kh_err_f(yk, yg, ny);
    int bad = !(err <= 1e-5 && aerr <= 1e-5 && gerr <= 1e-5);
    if (bad)
        printf("FAIL %s scale %g act %d res %d alpha %d%s: err %.3e alpha %.3e vs generic %.3e\n",
               k->name, scale, act, residual, with_alpha, kind == 4 ? " own loops" : "", err,
               aerr, gerr);
    free(t64); free(y); free(a); free(yk); free(yg);
    kh_free(&c);
    return bad || bound_bad;
}

/* Row counts around the kernels' row block (GK_ROW_BLOCK): n = 1, 7, 17
 * and 37 rows (kh_graph: empty rows, degree-1 rows, duplicate edges)
 * against the float64 reference, and the same rows computed in pieces
 * ([0, s) then [s, n), as threads split them) bitwise equal to one call. */
static int check_rows(const kh_kernel *k, size_t n, gk_activation act, int with_alpha,
                      int kind) {
    kh_case c;
    kh_layer(&c, 8, k->heads, k->channels, k->edge_dim, k->concat, (int)(n & 1), act,
             0.2f, 2.0f);
    kh_graph(&c, n, kind);
    kh_buffers(&c);
    double *t64 = calloc(c.n * c.ts, sizeof *t64);
    kh_transform_ref(&c, t64);
    for (size_t q = 0; q < c.n * c.ts; q++) c.t[q] = (float)t64[q];
    size_t ny = c.n * (size_t)c.L.info.out_width, na = c.v.num_edges * (size_t)k->heads;
    double *y = calloc(ny, sizeof *y), *a = calloc(na + 1, sizeof *a);
    kh_aggregate_ref(&c, y, a);
    gk_layer_run run = kh_run(&c, with_alpha);
    if (k->prepare) k->prepare(&run, 0, c.n);
    k->aggregate(&run, 0, c.n);
    double err = kh_err_f(c.y, y, ny), aerr = with_alpha ? kh_err_f(c.alpha, a, na) : 0;
    float *yk = malloc(ny * sizeof *yk);
    memcpy(yk, c.y, ny * sizeof *yk);
    int split_bad = 0;
    size_t splits[] = {1, 3, n / 2, n - 1};
    for (size_t q = 0; q < sizeof splits / sizeof *splits; q++) {
        size_t s = splits[q];
        if (s == 0 || s >= n) continue;
        memset(c.y, 0, ny * sizeof *c.y);
        k->aggregate(&run, s, n);  /* the later range first, as a second thread may */
        k->aggregate(&run, 0, s);
        split_bad |= memcmp(c.y, yk, ny * sizeof *yk) != 0;
    }
    int bad = !(err <= 1e-5 && aerr <= 1e-5) || split_bad;
    if (bad)
        printf("FAIL %s rows %zu act %d alpha %d%s: err %.3e alpha %.3e%s\n", k->name, n, act,
               with_alpha, kind == 4 ? " own loops" : "", err, aerr,
               split_bad ? ", split rows differ" : "");
    free(t64); free(y); free(a); free(yk);
    kh_free(&c);
    return bad;
}

/* The same for a GATv2 kernel: t = [xl | xr | res] from one float64
 * transform, the kernel and the generic path against kh_aggregate_ref. The
 * logits are sums over C channels of float products, so large-logit cases
 * (scale 40) carry the float rounding of the logit itself into alpha (an
 * exp of it): alpha's tolerance grows with the largest |logit| of the case
 * (measured: 1.5e-5 at |logit| ~ 100); y's stays 1e-5. */
static int check_v2(const kh_kernel *k, float scale, gk_activation act, int share,
                    int residual, int with_alpha) {
    kh_case c;
    kh_layer_v2(&c, 8, k->heads, k->channels, k->edge_dim, k->concat, share, residual, act,
                0.2f, scale);
    kh_graph(&c, 37, 0);
    kh_buffers(&c);
    double *t64 = calloc(c.n * c.ts, sizeof *t64);
    kh_transform_ref(&c, t64);
    for (size_t q = 0; q < c.n * c.ts; q++) c.t[q] = (float)t64[q];
    size_t ny = c.n * (size_t)c.L.info.out_width, na = c.v.num_edges * (size_t)k->heads;
    double *y = calloc(ny, sizeof *y), *a = calloc(na + 1, sizeof *a);
    kh_aggregate_ref(&c, y, a);
    double lmax = 1;  /* largest |logit| of the case */
    for (size_t i = 0; i < c.n; i++)
        for (int32_t e = c.v.row_ptr[i]; e < c.v.row_ptr[i + 1]; e++)
            for (int h = 0; h < k->heads; h++) {
                double l = fabs(kh_logit(&c, c.t + (size_t)c.v.src[e] * c.ts, c.t + i * c.ts, e, h));
                lmax = l > lmax ? l : lmax;
            }
    double tol = 1e-5, atol = 1e-5 * (lmax > 10 ? lmax / 10 : 1);
    gk_layer_run run = kh_run(&c, with_alpha);
    k->aggregate(&run, 0, c.n);
    double err = kh_err_f(c.y, y, ny), aerr = with_alpha ? kh_err_f(c.alpha, a, na) : 0;
    float *yk = malloc(ny * sizeof *yk);
    memcpy(yk, c.y, ny * sizeof *yk);
    gk_generic_aggregate(&run, 0, c.n);
    double *yg = calloc(ny, sizeof *yg);
    for (size_t q = 0; q < ny; q++) yg[q] = c.y[q];
    double gerr = kh_err_f(yk, yg, ny);
    int bad = !(err <= tol && aerr <= atol && gerr <= tol);
    if (bad)
        printf("FAIL %s scale %g act %d share %d res %d alpha %d: err %.3e alpha %.3e vs "
               "generic %.3e (alpha tolerance %.1e, max |logit| %.0f)\n", k->name, scale, act,
               share, residual, with_alpha, err, aerr, gerr, atol, lmax);
    free(t64); free(y); free(a); free(yk); free(yg);
    kh_free(&c);
    return bad;
}

int main(int argc, char **argv) {
    int selected = kh_select_isa(argc, argv);
    if (selected) return selected;
    int fails = 0, runs = 0, noted[8] = {0};
    kh_note_skipped(noted);
    for (size_t q = 0; q < gk_num_kernel_rows; q++) {
        kh_kernel kk, *k = &kk;
        int is = kh_kernel_of(&gk_kernel_rows[q], GK_KERNEL_GAT_AGG, k);
        if (is < 0) fails++;
        if (is <= 0 || kh_skip(k->isa, noted)) continue;
        unsigned r = kh_variant(k);
        fails += check(k, 1.0f, GK_ACT_ELU, 0, 0, 0);
        fails += check(k, 40.0f, GK_ACT_NONE, 1, 1, 0);  /* large logits */
        fails += check(k, 3.0f, (gk_activation)(r % 4), (int)(r & 1), 1, 0);
        /* rows with their own loop last, as views that add loops have them */
        fails += check(k, 1.0f, GK_ACT_ELU, 1, 0, 4);
        fails += check(k, 40.0f, (gk_activation)(r % 4), 0, 1, 4);
        runs += 5;
        static const size_t rows[] = {1, 7, 17, 37};
        for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
            fails += check_rows(k, rows[i], (gk_activation)((r + i) % 4), (int)(i & 1), 0);
            fails += check_rows(k, rows[i], (gk_activation)((r + i + 1) % 4), 0, 4);
            runs += 2;
        }
    }
    for (size_t q = 0; q < gk_num_kernel_rows; q++) {
        kh_kernel kk, *k = &kk;
        if (kh_kernel_of(&gk_kernel_rows[q], GK_KERNEL_GATV2_AGG, k) <= 0 ||
            kh_skip(k->isa, noted))
            continue;
        unsigned r = kh_variant(k);
        fails += check_v2(k, 1.0f, GK_ACT_ELU, 0, 0, 0);
        fails += check_v2(k, 1.0f, GK_ACT_NONE, 1, 1, 1);  /* share_weights */
        fails += check_v2(k, 40.0f, GK_ACT_NONE, 0, 1, 1);  /* large logits */
        fails += check_v2(k, 3.0f, (gk_activation)(r % 4), (int)(r & 1), (int)(r & 2), 1);
        runs += 4;
    }
    printf("%d aggregation runs, %d failing\n", runs, fails);
    return kh_finish(fails != 0);
}
