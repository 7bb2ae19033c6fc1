/* The op kernels' elementary functions (src/ops/ops_math.h) against libm in
 * double: gk_expf, gk_expm1f, gk_tanhf and gk_sigmoidf over a dense sweep
 * of [-30, 30] and the small arguments near 0, worst error in units of the
 * float32 result (relative for exp, absolute + relative for the others),
 * plus NaN in, NaN out. */
#include <math.h>
#include <stdio.h>

#include "ops_math.h"

static int check(const char *name, float (*f)(float), double (*ref)(double), double lo,
                 double hi, double tolerance) {
    double worst = 0.0, at = 0.0;
    for (int k = 0; k <= 2000000; k++) {
        float x = (float)(lo + (hi - lo) * k / 2000000.0);
        double want = ref((double)x), got = (double)f(x);
        double err = fabs(got - want) / fmax(fabs(want), 1e-3);
        if (err > worst) {
            worst = err;
            at = x;
        }
    }
    int nan_ok = isnan(f(NAN));
    int ok = worst <= tolerance && nan_ok;
    printf("%s %-12s on [%g, %g]: worst error %.2e at x = %.6g (limit %.0e)%s\n",
           ok ? "ok  " : "FAIL", name, lo, hi, worst, at, tolerance,
           nan_ok ? "" : ", NaN not kept");
    return !ok;
}

static float expf_(float x) { return gk_expf(x); }
static float expm1f_(float x) { return gk_expm1f(x); }
static float tanhf_(float x) { return gk_tanhf(x); }
static float sigmoidf_(float x) { return gk_sigmoidf(x); }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

int main(void) {
    int failures = 0;
    failures += check("gk_expf", expf_, exp, -87.0, 88.0, 1e-6);
    failures += check("gk_expm1f", expm1f_, expm1, -30.0, 30.0, 1e-6);
    failures += check("gk_expm1f", expm1f_, expm1, -0.5, 0.5, 1e-6);
    failures += check("gk_tanhf", tanhf_, tanh, -30.0, 30.0, 1e-6);
    failures += check("gk_tanhf", tanhf_, tanh, -0.7, 0.7, 1e-6);
    failures += check("gk_sigmoidf", sigmoidf_, sigmoid, -60.0, 60.0, 1e-6);
    /* a masked score (-inf) must weigh exactly 0 in a softmax */
    int zero = gk_expf(-INFINITY) == 0.0f && gk_expf(-100.0f) == 0.0f && gk_expf(0.0f) == 1.0f;
    printf("%s gk_expf(-inf) = %g, gk_expf(-100) = %g, gk_expf(0) = %g\n", zero ? "ok  " : "FAIL",
           (double)gk_expf(-INFINITY), (double)gk_expf(-100.0f), (double)gk_expf(0.0f));
    failures += !zero;
    printf(failures ? "FAILED\n" : "all elementary functions within limits\n");
    return failures ? 1 : 0;
}
