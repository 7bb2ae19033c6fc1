/* Every generated transform kernel (one per output width t_stride, any F_in)
 * on every ISA this CPU runs, against a float64 x·W (+ b): F_in of 1, odd,
 * around and not a multiple of the k unroll, and large; row counts of 1 and
 * around every row tile (partial tiles); with and without b_fused. Each
 * element must be within the float rounding bound of its sum; and a row
 * range [begin, end) must give, bitwise, the rows of the full call (threads
 * split rows) and write nothing outside its rows. */
#include "kernel_harness.h"
#include "select.h"

static const int kF[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 64, 130, 515};
static const size_t kRows[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 17, 31};

/* A layer of width k->t_stride (H = 1, C = t_stride - 2), F inputs, n rows;
 * for a narrow kernel, of its columns or one fewer (C = 2 or 1: w_fused is
 * zero past them, as the loader lays it out). */
static void make_case(kh_case *c, const kh_kernel *k, int F, size_t n, int bias) {
    int channels = k->narrow_cols ? k->narrow_cols - 2 - (int)(n & 1) : k->t_stride - 2;
    kh_layer(c, F, 1, channels, 0, 1, 0, GK_ACT_NONE, 0.2f, 1.0f);
    kh_graph(c, n, 0);
    kh_buffers(c);
    if (bias) {
        c->L.b_fused = gk_calloc_array(c->ts, sizeof(float));
        for (size_t q = 0; q < (size_t)c->L.cols; q++) c->L.b_fused[q] = kh_rand();
    }
}

/* Kernel against float64: every element within (F + 2)·u·Σ|x·w| (+|b|). */
static int check_values(const kh_kernel *k, int F, size_t n, int bias, double *worst) {
    kh_case c;
    make_case(&c, k, F, n, bias);
    gk_layer_run run = kh_run(&c, 0);
    k->fn(&run, 0, c.n);
    double *t64 = calloc(c.n * c.ts, sizeof *t64), *mag = calloc(c.n * c.ts, sizeof *mag);
    kh_transform_ref_mag(&c, t64, mag);
    int bad = 0;
    for (size_t q = 0; q < c.n * c.ts && !bad; q++) {
        double err = fabs((double)c.t[q] - t64[q]);
        double bound = (F + 2) * ldexp(1.0, -24) * mag[q] * 1.01;
        if (!(err <= bound)) {
            printf("FAIL %s F=%d rows=%zu%s: t[%zu][%zu] = %.9g, float64 %.9g (bound %.3g)\n",
                   k->name, F, n, bias ? " +b" : "", q / c.ts, q % c.ts, c.t[q], t64[q], bound);
            bad = 1;
        }
    }
    double e = kh_err_f(c.t, t64, c.n * c.ts);
    if (e > *worst) *worst = e;
    if (!bad && !(e <= 1e-5)) {
        printf("FAIL %s F=%d rows=%zu: error %.3e > 1e-5\n", k->name, F, n, e);
        bad = 1;
    }
    free(t64);
    free(mag);
    kh_free(&c);
    return bad;
}

/* Row ranges [0, s) + [s, n) for every split s, and empty ranges: the rows
 * in range bitwise as the full call's, every other row untouched. */
static int check_ranges(const kh_kernel *k, int F, size_t n) {
    kh_case c;
    make_case(&c, k, F, n, 1);
    gk_layer_run run = kh_run(&c, 0);
    k->fn(&run, 0, n);
    size_t count = n * c.ts;
    float *full = malloc(count * sizeof *full);
    memcpy(full, c.t, count * sizeof *full);
    int bad = 0;
    for (size_t s = 0; s <= n && !bad; s++) {
        for (size_t q = 0; q < count; q++) c.t[q] = -12345.0f;
        k->fn(&run, s, s);  /* empty: writes nothing */
        k->fn(&run, 0, s);
        for (size_t q = 0; q < count; q++) {
            int inside = q / c.ts < s;
            float want = inside ? full[q] : -12345.0f;
            if (memcmp(&c.t[q], &want, sizeof want) != 0) {
                printf("FAIL %s F=%d rows [0, %zu) of %zu: row %zu %s\n", k->name, F, s, n,
                       q / c.ts, inside ? "differs from the full call" : "written outside");
                bad = 1;
                break;
            }
        }
        if (bad) break;
        k->fn(&run, s, n);
        if (memcmp(c.t, full, count * sizeof *full) != 0) {
            printf("FAIL %s F=%d rows [0, %zu) + [%zu, %zu) differ from one call\n", k->name,
                   F, s, s, n);
            bad = 1;
        }
    }
    free(full);
    kh_free(&c);
    return bad;
}

/* The selector picks a layer's transform by its width alone: a GATConv layer
 * 37 -> 16 x 4 heads (F_in 37 is in no shapes key; t_stride 80 is) gets the
 * width-80 kernel of the ISA, on every ISA this CPU runs; a layer of 3
 * columns gets the ISA's narrow kernel where it has one. */
static int check_selection(void) {
    int bad = 0;
    for (int q = 0; q < 32; q++) {
        gk_isa isa = (gk_isa)q;
        if (isa == GK_ISA_AUTO || isa == GK_ISA_GENERIC || !gk_cpu_supports(isa)) continue;
        if (!strcmp(gk_isa_name(isa), "?")) continue;
        kh_case c;
        kh_layer(&c, 37, 4, 16, 0, 1, 0, GK_ACT_ELU, 0.2f, 1.0f);
        gk_model m;
        memset(&m, 0, sizeof m);
        m.num_layers = 1;
        m.layers = &c.L;
        gk_layer_kernels k;
        char why[256];
        gk_select_kernels(&m, 0, isa, &k, why, sizeof why);
        const gk_kernel_row *want =
            gk_reg_find(GK_KERNEL_TRANSFORM, isa, gk_key((int)c.ts, 0, 0, 0));
        if (!want || k.transform != want->fn) {
            printf("FAIL selection at F_in 37, width %zu, %s: not %s (%s)\n", c.ts,
                   gk_isa_name(isa), want ? want->name : "(no kernel)", why);
            bad = 1;
        }
        gk_free(c.L.w_fused);
        gk_free(c.L.bias);
        /* one head of one channel (3 columns): the ISA's narrow kernel */
        kh_layer(&c, 37, 1, 1, 0, 1, 0, GK_ACT_ELU, 0.2f, 1.0f);
        gk_select_kernels(&m, 0, isa, &k, why, sizeof why);
        want = gk_reg_find(GK_KERNEL_TRANSFORM, isa, gk_key(16, 4, 0, 0));
        if (!want) want = gk_reg_find(GK_KERNEL_TRANSFORM, isa, gk_key(16, 0, 0, 0));
        if (!want || k.transform != want->fn) {
            printf("FAIL selection of 3 columns, %s: not %s (%s)\n", gk_isa_name(isa),
                   want ? want->name : "(no kernel)", why);
            bad = 1;
        }
        gk_free(c.L.w_fused);
        gk_free(c.L.bias);
    }
    return bad;
}

int main(int argc, char **argv) {
    int selected = kh_select_isa(argc, argv);
    if (selected) return selected;
    int fails = 0, runs = 0, noted[8] = {0};
    kh_note_skipped(noted);
    double worst = 0;
    (void)kh_aggregate_ref;
    size_t kernels = 0;
    for (size_t r = 0; r < gk_num_kernel_rows; r++) {
        kh_kernel kk, *k = &kk;
        if (kh_kernel_of(&gk_kernel_rows[r], GK_KERNEL_TRANSFORM, k) <= 0 ||
            kh_skip(k->isa, noted))
            continue;
        kernels++;
        if (gk_reg_find(GK_KERNEL_TRANSFORM, k->isa, gk_key(k->t_stride, k->narrow_cols, 0, 0)) !=
            &gk_kernel_rows[r]) {
            printf("FAIL %s: gk_reg_find(TRANSFORM, %d) finds another kernel\n", k->name,
                   k->t_stride);
            fails++;
        }
        for (size_t f = 0; f < sizeof kF / sizeof kF[0]; f++)
            for (size_t q = 0; q < sizeof kRows / sizeof kRows[0]; q++) {
                fails += check_values(k, kF[f], kRows[q], (int)((f + q) & 1), &worst);
                runs++;
            }
        const int range_f[] = {1, 7, 33};
        for (size_t f = 0; f < 3; f++) {
            fails += check_ranges(k, range_f[f], 19);
            runs++;
        }
    }
    fails += check_selection();
    printf("%d transform runs (%zu kernels), max error %.3e, %d failing\n", runs,
           kernels, worst, fails);
    return kh_finish(fails != 0);
}
