/* The generic transform's GEMM: BLIS's sgemm micro-kernel over operands we
 * pack ourselves into plan-owned buffers.
 *
 * bli_sgemm takes the mutex of BLIS's packing-block allocator on every call
 * (six locks per layer, counted); the hot path must take none. The micro-
 * kernel is BLIS's own optimized code for this CPU (SKX, Haswell or the
 * portable reference) and locks, allocates and calls nothing. */
#ifndef GK_BLIS_GEMM_H
#define GK_BLIS_GEMM_H

#include <stddef.h>

#include "model.h"

/* BLIS's micro-kernel for this CPU and its blocking, chosen once. */
typedef struct gk_blis_kernel {
    const void *cntx;            /* cntx_t*                                */
    void (*ukr)(void);           /* sgemm_ukr_ft, cast at the call         */
    int mr, nr;                  /* register tile                          */
    int packmr, packnr;          /* packed panel widths (>= mr, nr)        */
    int kc;                      /* depth per packed block                 */
    int prefers_rows;            /* C tiles stored by rows or by columns   */
} gk_blis_kernel;

/* One layer's w_fused packed for the kernel, once per plan. */
typedef struct gk_packed_weights {
    float *panels;
    size_t k, cols;              /* in_channels, layer->cols               */
} gk_packed_weights;

/* The kernel for this CPU (cpuid picks SKX, Haswell, else BLIS's own choice). */
void gk_blis_kernel_init(gk_blis_kernel *kernel);
/* The kernel of a given BLIS context (cntx_t*), for tests of each one. */
void gk_blis_kernel_from_context(gk_blis_kernel *kernel, const void *cntx);

/* Floats of per-thread scratch that gk_blis_transform needs for k inputs. */
size_t gk_blis_pack_floats(const gk_blis_kernel *kernel, size_t k);

/* Packs layer->w_fused; GK_ENOMEM as a NULL panels on failure. */
int gk_blis_pack_weights(const gk_blis_kernel *kernel, const gk_layer *layer,
                         gk_packed_weights *out);
void gk_blis_free_weights(gk_packed_weights *w);

/* t[0:m, 0:cols] (row stride ts) = x[0:m, 0:k] · w_fused, with `scratch`
 * of gk_blis_pack_floats() floats. No allocation, no lock, no call. */
void gk_blis_transform(const gk_blis_kernel *kernel, const gk_packed_weights *w,
                       const float *x, size_t m, float *t, size_t ts, float *scratch);

#endif
