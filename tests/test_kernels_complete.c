/* Every generated complete-graph kernel (sorted prefix sums) on
 * every ISA this CPU runs, against a float64 reference and the generic
 * path: complete graphs of 1 to 256 nodes (rank sort, counting by compare)
 * and of 257 to 1000 nodes (radix sort, sampled counting; alpha goes
 * through the CSR kernel); ordinary and large-magnitude logits; every activation; alpha.
 * With edge features (tiles of target rows): 1 to 131 nodes, full and
 * partial tiles, rows in both canonical orders and in their own order. */
#include "kernel_harness.h"

static int check(const kh_kernel *k, size_t n, float scale, gk_activation act, int residual,
                 int with_alpha, int kind) {
    kh_case c;
    kh_layer(&c, 8, k->heads, k->channels, k->edge_dim, k->concat, residual, act,
             0.2f, scale);
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
    gk_generic_aggregate(&run, 0, c.n);
    double *yg = calloc(ny, sizeof *yg);
    for (size_t q = 0; q < ny; q++) yg[q] = c.y[q];
    double gerr = kh_err_f(yk, yg, ny);
    int bad = !(err <= 1e-5 && aerr <= 1e-5 && gerr <= 1e-5);
    if (bad)
        printf("FAIL %s n %zu kind %d scale %g act %d res %d alpha %d: err %.3e alpha %.3e "
               "vs generic %.3e\n", k->name, n, kind, scale, act, residual, with_alpha, err,
               aerr, gerr);
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
        int is = kh_kernel_of(&gk_kernel_rows[q], GK_KERNEL_GAT_COMPLETE, k);
        if (is < 0) fails++;
        if (is <= 0 || kh_skip(k->isa, noted)) continue;
        unsigned r = kh_variant(k);
        if (k->edge_dim) {  /* tiles of target rows: full and partial tiles */
            static const size_t sizes[] = {1, 2, 7, 64, 100, 131};
            fails += check(k, sizes[r % 6], 1.0f, GK_ACT_ELU, 0, 0, 1);
            fails += check(k, sizes[(r + 3) % 6], 40.0f, GK_ACT_NONE, 1, 0, 2);
            fails += check(k, sizes[(r + 1) % 6], 3.0f, GK_ACT_ELU, (int)(r & 1), 0, 3);
            fails += check(k, 13 + r % 5, 3.0f, (gk_activation)(r % 4), (int)(r & 1), 0, 2 + r % 2);
            fails += check(k, (size_t)(1 + r % 3 * 30), 3.0f, GK_ACT_ELU, 0, 1, 1);  /* alpha */
            runs += 5;
            continue;
        }
        static const size_t sizes[] = {1, 2, 64, 100, 128, 256};
        fails += check(k, sizes[r % 6], 1.0f, GK_ACT_ELU, 0, 0, 1);
        fails += check(k, sizes[(r + 3) % 6], 40.0f, GK_ACT_NONE, 1, 0, 1);  /* large logits */
        fails += check(k, (size_t)(1 + r % 3 * 60), 3.0f, (gk_activation)(r % 4), (int)(r & 1), 1, 1);
        static const size_t large[] = {257, 300, 517, 1000};  /* the n > GK_SMALL_N path */
        fails += check(k, large[r % 4], r % 2 ? 40.0f : 1.0f, GK_ACT_ELU, (int)(r & 1), 0, 1);
        runs += 4;
    }
    printf("%d complete-graph runs, %d failing\n", runs, fails);
    return kh_finish(fails != 0);
}
