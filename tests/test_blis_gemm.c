/* The generic transform's GEMM (src/kernels/blis_gemm.c) against a float64
 * reference, for every BLIS kernel this CPU runs (SKX prefers column tiles,
 * Haswell row tiles, the reference kernel either), on sizes that leave
 * partial tiles and depths that span several packed blocks. */
#include <blis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blis_gemm.h"
#include "kernels.h"
#include "registry.h"
#include "select.h"

static float uniform(unsigned *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Max |t - x·W| over the m x cols block, relative to Σ|x||W| per entry. */
static double check(const gk_blis_kernel *kernel, size_t m, size_t k, size_t cols,
                    unsigned seed) {
    gk_layer layer;
    memset(&layer, 0, sizeof layer);
    layer.info.in_channels = (int)k;
    layer.cols = (int)cols;
    size_t ts = gk_t_stride(&layer);
    layer.w_fused = gk_calloc_array(k * ts, sizeof(float));
    float *x = gk_calloc_array(m * k + 1, sizeof(float));
    float *t = gk_calloc_array(m * ts, sizeof(float));
    float *scratch = gk_calloc_array(gk_blis_pack_floats(kernel, k), sizeof(float));
    gk_packed_weights packed;
    if (!layer.w_fused || !x || !t || !scratch ||
        gk_blis_pack_weights(kernel, &layer, &packed) != 0) {
        printf("out of memory\n");
        exit(2);
    }
    gk_blis_free_weights(&packed);
    for (size_t i = 0; i < k * ts; i++)
        layer.w_fused[i] = i % ts < cols ? uniform(&seed) : 0.0f;
    for (size_t i = 0; i < m * k; i++) x[i] = uniform(&seed);
    for (size_t i = 0; i < m * ts; i++) t[i] = NAN;  /* beta = 0 must not read */
    gk_blis_pack_weights(kernel, &layer, &packed);
    gk_blis_transform(kernel, &packed, x, m, t, ts, scratch);
    double worst = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < ts; c++) {
            double ref = 0.0, mag = 1e-30;
            for (size_t p = 0; p < k; p++) {
                ref += (double)x[i * k + p] * layer.w_fused[p * ts + c];
                mag += fabs((double)x[i * k + p] * layer.w_fused[p * ts + c]);
            }
            double got = t[i * ts + c];
            if (c >= cols) {  /* padding columns: never written */
                if (!isnan(got)) worst = INFINITY;
                continue;
            }
            double e = isnan(got) ? INFINITY : fabs(got - ref) / mag;
            worst = e > worst ? e : worst;
        }
    gk_blis_free_weights(&packed);
    gk_free(layer.w_fused);
    gk_free(x);
    gk_free(t);
    gk_free(scratch);
    return worst;
}

int main(void) {
    bli_init();
    static const struct { arch_t id; gk_isa needs; const char *name; } archs[] = {
        {BLIS_ARCH_SKX, GK_ISA_AVX512, "skx"},
        {BLIS_ARCH_HASWELL, GK_ISA_AVX2, "haswell"},
        {BLIS_ARCH_GENERIC, GK_ISA_SCALAR, "generic"},
    };
    static const size_t ms[] = {1, 5, 31, 33, 100};
    static const size_t cols_list[] = {1, 13, 80, 150};
    int failures = 0, runs = 0;
    for (size_t a = 0; a < sizeof archs / sizeof *archs; a++) {
        cntx_t **by_method = bli_gks_lookup_id(archs[a].id);
        if (!gk_cpu_supports(archs[a].needs) || !by_method || !by_method[BLIS_NAT]) {
            printf("%-8s not run on this CPU/BLIS\n", archs[a].name);
            continue;
        }
        gk_blis_kernel kernel;
        gk_blis_kernel_from_context(&kernel, by_method[BLIS_NAT]);
        const size_t kc = (size_t)kernel.kc;
        const size_t ks[] = {1, 7, 64, kc + 3, 2 * kc + 1};
        double worst = 0.0;
        for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
            for (size_t j = 0; j < sizeof ks / sizeof *ks; j++)
                for (size_t c = 0; c < sizeof cols_list / sizeof *cols_list; c++) {
                    double e = check(&kernel, ms[i], ks[j], cols_list[c],
                                     (unsigned)(i * 100 + j * 10 + c));
                    runs++;
                    if (!(e <= 1e-6)) {
                        printf("FAIL %s m=%zu k=%zu cols=%zu: error %.3g\n",
                               archs[a].name, ms[i], ks[j], cols_list[c], e);
                        failures++;
                    }
                    worst = e > worst ? e : worst;
                }
        printf("%-8s mr=%d nr=%d kc=%d %s tiles: worst relative error %.3g\n",
               archs[a].name, kernel.mr, kernel.nr, kernel.kc,
               kernel.prefers_rows ? "row" : "column", worst);
    }
    printf("%d GEMMs, %d failing\n", runs, failures);
    return failures ? 1 : 0;
}
