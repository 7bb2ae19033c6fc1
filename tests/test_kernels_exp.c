/* The generated vector exp (AVX-512 and AVX2, NEON on AArch64) against libm's double exp:
 * max relative error over [-87, 88] (every 1/4096 step plus random points),
 * which docs/codegen.md quotes. Fails above 4e-7 (about 3 ulp).
 * ELU's expm1 for x <= 0 against libm's double expm1: max relative error
 * over [-20, 0] (every 1/4096 step, and 2^-k down to 1e-30 where expm1(x)
 * - as exp(x) - 1 would not - keeps its relative precision). Fails above
 * 1e-6. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "registry.h"

#include "select.h"

/* The registry's array rows of op: every SIMD ISA's VEXP or VEXPM1_NEG. */
typedef struct { gk_isa isa; const char *name; gk_array_fn fn; } exp_fn;
static int rows_of(gk_kernel_op op, exp_fn *out, int cap) {
    int n = 0;
    for (size_t q = 0; q < gk_num_kernel_rows && n < cap; q++)
        if (gk_kernel_rows[q].op == op)
            out[n++] = (exp_fn){gk_kernel_rows[q].isa, gk_isa_name(gk_kernel_rows[q].isa),
                                gk_kernel_rows[q].array_fn};
    return n;
}

int main(void) {
    size_t n = (size_t)(175 * 4096);
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t q = 0; q < n; q++) x[q] = -87.0f + (float)q / 4096.0f;
    int fails = 0;
    exp_fn isas[16], em[16];
    const int num_exp = rows_of(GK_KERNEL_VEXP, isas, 16);
    const int num_expm1 = rows_of(GK_KERNEL_VEXPM1_NEG, em, 16);
    if (num_exp == 0) {  /* CTest's SKIP_RETURN_CODE */
        puts("skipped: no vector exp in this build's registry (no SIMD ISA here)");
        free(x);
        free(y);
        return 77;
    }
    for (int i = 0; i < num_exp; i++) {
        if (!gk_cpu_supports(isas[i].isa)) {
            printf("note: this CPU cannot run %s: skipped\n", isas[i].name);
            continue;
        }
        isas[i].fn(x, y, n);
        double worst = 0, at = 0;
        for (size_t q = 0; q < n; q++) {
            double ref = exp((double)x[q]), e = fabs(y[q] - ref) / ref;
            if (e > worst || e != e) { worst = e; at = x[q]; }
        }
        printf("%s exp: max relative error %.3e (%.2f ulp) at x = %.6f over [-87, 88]\n",
               isas[i].name, worst, worst / 5.96e-8, at);
        fails += !(worst <= 4e-7);
    }
    {
        size_t m = (size_t)(20 * 4096), nt = m + 100;
        float *u = malloc(nt * sizeof *u), *v = malloc(nt * sizeof *v);
        for (size_t q = 0; q < m; q++) u[q] = -(float)q / 4096.0f;
        for (size_t k = 0; k < 100; k++) u[m + k] = -ldexpf(1.0f, -(int)k) * 0.8125f;
        for (int i = 0; i < num_expm1; i++) {
            if (!gk_cpu_supports(em[i].isa)) continue;
            em[i].fn(u, v, nt);
            double worst = 0, at = 0;
            for (size_t q = 0; q < nt; q++) {
                double ref = expm1((double)u[q]);
                double e = ref == 0.0 ? fabs((double)v[q]) : fabs(v[q] - ref) / fabs(ref);
                if (e > worst || e != e) { worst = e; at = u[q]; }
            }
            printf("%s expm1 (ELU, x <= 0): max relative error %.3e (%.2f ulp) at x = %.6g\n",
                   em[i].name, worst, worst / 5.96e-8, at);
            fails += !(worst <= 1e-6);
            float nan_in[1] = {NAN}, nan_out[1];
            em[i].fn(nan_in, nan_out, 1);
            fails += !(nan_out[0] != nan_out[0]);
        }
        free(u);
        free(v);
    }
    free(x);
    free(y);
    return fails != 0;
}
