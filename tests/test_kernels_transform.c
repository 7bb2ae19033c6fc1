/* Every generated transform kernel on every ISA this CPU runs, against a
 * float64 x·W, for row counts around the kernels' row tiles. */
#include "kernel_harness.h"

int main(void) {
    int fails = 0, runs = 0, noted[8] = {0};
    (void)kh_aggregate_ref;
    for (size_t r = 0; r < gk_reg_num_transforms; r++) {
        const gk_reg_transform *k = &gk_reg_transforms[r];
        if (kh_skip(k->isa, noted)) continue;
        const size_t rows[] = {1, 3, 4, 9, 17};
        for (size_t q = 0; q < sizeof rows / sizeof rows[0]; q++) {
            kh_case c;
            /* a layer whose t_stride is k->t_stride: H = 1, C = t_stride - 2 */
            kh_layer(&c, k->f_in, 1, k->t_stride - 2, 0, 1, 0, GK_ACT_NONE, 0.2f, 1.0f);
            kh_graph(&c, rows[q], 0);
            kh_buffers(&c);
            gk_layer_run run = kh_run(&c, 0);
            k->fn(&run, 0, c.n);
            double *t64 = calloc(c.n * c.ts, sizeof *t64);
            kh_transform_ref(&c, t64);
            double err = kh_err_f(c.t, t64, c.n * c.ts);
            runs++;
            if (!(err <= 1e-6)) {
                printf("FAIL %s rows=%zu err %.3e\n", k->name, c.n, err);
                fails++;
            }
            free(t64);
            kh_free(&c);
        }
    }
    printf("%d transform runs, %d failing\n", runs, fails);
    return fails != 0;
}
