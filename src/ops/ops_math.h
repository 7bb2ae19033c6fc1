/* Elementary functions for the op kernels, in plain arithmetic around
 * a polynomial exp so that loops of them vectorize: glibc's tanhf goes
 * through expm1f and cost an LSTM 60 % of its time, expf's call 30 % more.
 * Accuracy: a few ulp. */
#ifndef GK_OPS_MATH_H
#define GK_OPS_MATH_H

#include <math.h>
#include <stdint.h>

/* exp(x) by Cephes' polynomial and an exponent built from the bits of a
 * rounded float (no float-to-int conversion, so NaN is safe), for sigmoid
 * tanh and softmax: above 88 exp saturates at 1.65e38 where expf would
 * reach 3.4e38 or infinity; below -87.3 (FLT_MIN) it is 0, so a -inf
 * (a masked score) weighs exactly 0 as in PyTorch; NaN stays NaN. */
static inline __attribute__((always_inline)) float gk_expf(float x) {
    float c = x > 88.0f ? 88.0f : (x < -87.33654f ? -87.33654f : x);
    c = c == c ? c : 0.0f;
    /* n = round(c / ln 2) by the 1.5 * 2^23 trick: floorf would not
     * vectorize (it may trap), and the low bits of t then hold n */
    union { float f; uint32_t u; } t, scale;   /* C11 allows punning by union */
    t.f = c * 1.44269504088896341f + 12582912.0f;
    float n = t.f - 12582912.0f;
    float r = c - n * 0.693359375f + n * 2.12194440e-4f;
    float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r +
                4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    scale.u = (t.u - 0x4B400000u + 127u) << 23;
    float r_scaled = y * scale.f;
    float low = x < -87.33654f ? 0.0f : r_scaled;   /* below FLT_MIN, -inf: 0 */
    return x != x ? x : low;
}

/* Cephes' tanhf: an odd polynomial below |x| = 0.625 (no cancellation near
 * 0), 1 - 2 / (exp(2|x|) + 1) above, with the sign put back. */
static inline __attribute__((always_inline)) float gk_tanhf(float x) {
    float a = fabsf(x);
    float z = x * x;
    float poly = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                   1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float big = 1.0f - 2.0f / (gk_expf(2.0f * (a < 44.0f ? a : 44.0f)) + 1.0f);
    big = x < 0.0f ? -big : big;
    return a < 0.625f ? poly : (x != x ? x : big);
}

/* expm1(x): a Taylor polynomial where |x| < 0.35 (no cancellation near 0;
 * the first term left out is below 2e-8 relative), exp(x) - 1 beyond. */
static inline __attribute__((always_inline)) float gk_expm1f(float x) {
    float p = x * (1.0f + x * (0.5f + x * (1.6666667e-1f + x * (4.1666668e-2f +
                   x * (8.3333338e-3f + x * 1.3888889e-3f)))));
    float q = gk_expf(x) - 1.0f;   /* both sides computed: a select vectorizes */
    return fabsf(x) < 0.35f ? p : q;
}

static inline __attribute__((always_inline)) float gk_sigmoidf(float x) {
    return 1.0f / (1.0f + gk_expf(-x));
}

#endif
