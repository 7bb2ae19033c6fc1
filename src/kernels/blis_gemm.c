/* The generic transform's GEMM through BLIS's micro-kernel (blis_gemm.h).
 *
 * t = x · W with W = w_fused, constant per plan. The micro-kernel computes
 * one register tile C[mr x nr] += A-panel · B-panel over a depth kc, from
 * panels packed so that each step of k reads packmr (packnr) contiguous
 * floats. Which operand is A depends on how the kernel likes its C tile:
 *
 *   prefers rows (Haswell 6x16):  C = t,   A = x (packed per call),
 *                                          B = W (packed once)
 *   prefers columns (SKX 32x12):  C = tᵀ,  A = Wᵀ (packed once),
 *                                          B = xᵀ (packed per call)
 *
 * tᵀ stored by columns is t stored by rows, so both write t in place. */
#include <blis.h>  /* first: it sets the POSIX level its pthread types need */
#include <string.h>

#include "blis_gemm.h"
#include "kernels.h"
#include "registry.h"
#include "select.h"

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

void gk_blis_kernel_init(gk_blis_kernel *kernel) {
    static const arch_t preferred[] = {BLIS_ARCH_SKX, BLIS_ARCH_HASWELL};
    static const gk_isa needs[] = {GK_ISA_AVX512, GK_ISA_AVX2};
    bli_init();  /* idempotent; registers every configuration built in */
    cntx_t *cntx = NULL;
    /* Debian's BLIS 0.9 does not recognize every CPU it has kernels for
     * (it took this EPYC for a generic x86-64): pick by our own cpuid. */
    for (size_t k = 0; !cntx && k < sizeof preferred / sizeof *preferred; k++) {
        if (!gk_cpu_supports(needs[k])) continue;
        cntx_t **by_method = bli_gks_lookup_id(preferred[k]);
        if (by_method) cntx = by_method[BLIS_NAT];
    }
    gk_blis_kernel_from_context(kernel, cntx ? cntx : bli_gks_query_cntx());
}

void gk_blis_kernel_from_context(gk_blis_kernel *kernel, const void *context) {
    cntx_t *cntx = (cntx_t *)context;
    memset(kernel, 0, sizeof *kernel);
    kernel->cntx = cntx;
    kernel->ukr = (void (*)(void))bli_cntx_get_l3_nat_ukr_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
    kernel->mr = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_MR, cntx);
    kernel->nr = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_NR, cntx);
    kernel->packmr = (int)bli_cntx_get_blksz_max_dt(BLIS_FLOAT, BLIS_MR, cntx);
    kernel->packnr = (int)bli_cntx_get_blksz_max_dt(BLIS_FLOAT, BLIS_NR, cntx);
    kernel->kc = (int)bli_cntx_get_blksz_def_dt(BLIS_FLOAT, BLIS_KC, cntx);
    kernel->prefers_rows = bli_cntx_l3_nat_ukr_prefers_rows_dt(BLIS_FLOAT, BLIS_GEMM_UKR, cntx);
}

/* Tile step and packed width of each operand. */
static int x_step(const gk_blis_kernel *k) { return k->prefers_rows ? k->mr : k->nr; }
static int x_width(const gk_blis_kernel *k) { return k->prefers_rows ? k->packmr : k->packnr; }
static int w_step(const gk_blis_kernel *k) { return k->prefers_rows ? k->nr : k->mr; }
static int w_width(const gk_blis_kernel *k) { return k->prefers_rows ? k->packnr : k->packmr; }

size_t gk_blis_pack_floats(const gk_blis_kernel *kernel, size_t k) {
    size_t kc = k < (size_t)kernel->kc ? k : (size_t)kernel->kc;
    return round16(kc * (size_t)x_width(kernel));
}

/* Floats of one packed-weights panel of depth kc, rounded to 64 bytes. */
static size_t w_panel_floats(const gk_blis_kernel *kernel, size_t kc) {
    return round16(kc * (size_t)w_width(kernel));
}

static size_t w_panels(const gk_blis_kernel *kernel, size_t cols) {
    return (cols + (size_t)w_step(kernel) - 1) / (size_t)w_step(kernel);
}

int gk_blis_pack_weights(const gk_blis_kernel *kernel, const gk_layer *layer,
                         gk_packed_weights *out) {
    const size_t k = (size_t)layer->info.in_channels, cols = (size_t)layer->cols;
    const size_t ld = gk_t_stride(layer), kc_max = (size_t)kernel->kc;
    const size_t step = (size_t)w_step(kernel), width = (size_t)w_width(kernel);
    const size_t panels = w_panels(kernel, cols);
    size_t blocks = (k + kc_max - 1) / kc_max, full = w_panel_floats(kernel, kc_max);
    out->k = k;
    out->cols = cols;
    out->panels = gk_calloc_array(blocks * panels, full * sizeof(float));
    if (!out->panels) return -1;
    for (size_t pc = 0, b = 0; pc < k; pc += kc_max, b++) {
        size_t kc = k - pc < kc_max ? k - pc : kc_max;
        float *block = out->panels + b * panels * full;
        for (size_t jp = 0; jp < panels; jp++) {
            float *panel = block + jp * w_panel_floats(kernel, kc);
            size_t j0 = jp * step, nj = cols - j0 < step ? cols - j0 : step;
            for (size_t p = 0; p < kc; p++)  /* zeros beyond nj: calloc */
                memcpy(panel + p * width, layer->w_fused + (pc + p) * ld + j0,
                       nj * sizeof(float));
        }
    }
    return 0;
}

void gk_blis_free_weights(gk_packed_weights *w) {
    gk_free(w->panels);
    w->panels = NULL;
}

/* scratch[p * width + i] = x[(i0 + i) * k + pc + p], zero past rows. */
static void pack_x(const float *x, size_t k, size_t rows, size_t width, size_t kc,
                   float *scratch) {
    for (size_t p = 0; p < kc; p++) {
        float *dst = scratch + p * width;
        size_t i = 0;
        for (; i < rows; i++) dst[i] = x[i * k + p];
        for (; i < width; i++) dst[i] = 0.0f;
    }
}

void gk_blis_transform(const gk_blis_kernel *kernel, const gk_packed_weights *w,
                       const float *x, size_t m, float *t, size_t ts, float *scratch) {
    const sgemm_ukr_ft ukr = (sgemm_ukr_ft)kernel->ukr;
    cntx_t *cntx = (cntx_t *)kernel->cntx;
    const size_t k = w->k, cols = w->cols, kc_max = (size_t)kernel->kc;
    const size_t xs = (size_t)x_step(kernel), xw = (size_t)x_width(kernel);
    const size_t ws = (size_t)w_step(kernel), panels = w_panels(kernel, cols);
    const size_t full = w_panel_floats(kernel, kc_max);
    float one = 1.0f, zero = 0.0f;
    if (k == 0) {  /* no depth: t = 0 (BLIS is not asked for k = 0) */
        for (size_t i = 0; i < m; i++) memset(t + i * ts, 0, cols * sizeof(float));
        return;
    }
    auxinfo_t aux;
    memset(&aux, 0, sizeof aux);
    for (size_t pc = 0, b = 0; pc < k; pc += kc_max, b++) {
        size_t kc = k - pc < kc_max ? k - pc : kc_max;
        float *beta = pc == 0 ? &zero : &one;  /* later blocks accumulate */
        const float *block = w->panels + b * panels * full;
        const size_t wpf = w_panel_floats(kernel, kc);
        for (size_t i0 = 0; i0 < m; i0 += xs) {
            size_t ni = m - i0 < xs ? m - i0 : xs;
            pack_x(x + i0 * k + pc, k, ni, xw, kc, scratch);
            for (size_t jp = 0; jp < panels; jp++) {
                size_t j0 = jp * ws, nj = cols - j0 < ws ? cols - j0 : ws;
                float *wp = (float *)block + jp * wpf, *c = t + i0 * ts + j0;
                bli_auxinfo_set_next_a(kernel->prefers_rows ? scratch : wp, &aux);
                bli_auxinfo_set_next_b(kernel->prefers_rows ? wp : scratch, &aux);
                if (kernel->prefers_rows)
                    ukr((dim_t)ni, (dim_t)nj, (dim_t)kc, &one, scratch, wp, beta, c,
                        (inc_t)ts, 1, &aux, cntx);
                else
                    ukr((dim_t)nj, (dim_t)ni, (dim_t)kc, &one, wp, scratch, beta, c, 1,
                        (inc_t)ts, &aux, cntx);
            }
        }
    }
}
